"""Desk accounts and sessions in SQL (the ``AccountStore`` of ``integrations.web.accounts``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update

from integrations.storage.database import Database, utcnow
from integrations.storage.tables import agents, sessions
from integrations.web.accounts import AgentAccount


class SqlAccounts(Database):
    """Desk accounts on a ``Database``."""

    # -- desk accounts -------------------------------------------------------------------------
    async def add_agent(self, account: AgentAccount) -> None:
        async with self.transaction() as connection:
            updated = await connection.execute(
                update(agents)
                .where(agents.c.username == account.username)
                .values(display_name=account.display_name, password_hash=account.password_hash)
            )
            if updated.rowcount:
                # A reset password ends every session signed in with the old one.
                await connection.execute(
                    delete(sessions).where(sessions.c.username == account.username)
                )
            if updated.rowcount == 0:
                await connection.execute(
                    insert(agents).values(
                        username=account.username,
                        display_name=account.display_name,
                        password_hash=account.password_hash,
                        created_at=utcnow(),
                    )
                )

    async def agent(self, username: str) -> AgentAccount | None:
        row = await self.fetch_one(select(agents).where(agents.c.username == username))
        return (
            AgentAccount(row["username"], row["display_name"], row["password_hash"])
            if row
            else None
        )

    async def create_session(self, token_hash: str, username: str, expires: datetime) -> None:
        async with self.transaction() as connection:
            await connection.execute(
                insert(sessions).values(
                    token_hash=token_hash, username=username, expires_at=expires
                )
            )

    async def session_agent(self, token_hash: str, now: datetime) -> AgentAccount | None:
        row = await self.fetch_one(
            select(agents)
            .join(sessions, sessions.c.username == agents.c.username)
            .where(sessions.c.token_hash == token_hash, sessions.c.expires_at > now)
        )
        return (
            AgentAccount(row["username"], row["display_name"], row["password_hash"])
            if row
            else None
        )

    async def delete_session(self, token_hash: str) -> None:
        async with self.transaction() as connection:
            await connection.execute(sessions.delete().where(sessions.c.token_hash == token_hash))
