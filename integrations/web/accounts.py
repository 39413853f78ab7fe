"""Desk accounts and their sessions: the store port the desk's sign-in uses
(``integrations.web.auth``), kept out of the core's ``ConversationStore``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class AgentAccount:
    username: str
    display_name: str
    password_hash: str


class AccountStore(Protocol):
    """Desk accounts and sessions. Implemented by ``integrations.storage.SqlStore``."""

    async def add_agent(self, account: AgentAccount) -> None: ...
    async def agent(self, username: str) -> AgentAccount | None: ...
    async def create_session(self, token_hash: str, username: str, expires: datetime) -> None: ...
    async def session_agent(self, token_hash: str, now: datetime) -> AgentAccount | None: ...
    async def delete_session(self, token_hash: str) -> None: ...
