"""Desk accounts: argon2 password hashes and server-side sessions (separate from customer
tokens). A session token travels in an HttpOnly cookie for the desk page, or as a bearer
token for scripts."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.engine import hash_secret
from integrations.web.accounts import AccountStore, AgentAccount
from integrations.web.errors import ApiError
from integrations.web.http import bearer

COOKIE = "tandem_desk"
_hasher = PasswordHasher()
# Verifying against a dummy hash keeps an unknown user as slow as a wrong password.
_DUMMY = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def sign_in(
    store: AccountStore, username: str, password: str, hours: float
) -> tuple[AgentAccount, str]:
    account = await store.agent(username)
    if not verify_password(account.password_hash if account else _DUMMY, password) or not account:
        raise ApiError(401, "bad_credentials", "unknown user or wrong password")
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=hours)
    await store.create_session(hash_secret(token), account.username, expires)
    return account, token


def session_token(request: web.Request) -> str | None:
    return bearer(request) or request.cookies.get(COOKIE)


async def current_agent(request: web.Request, store: AccountStore) -> AgentAccount:
    """The signed-in agent, or a 401."""
    token = session_token(request)
    account = await store.session_agent(hash_secret(token), datetime.now(UTC)) if token else None
    if account is None:
        raise ApiError(401, "unauthorized", "sign in to the desk first")
    return account
