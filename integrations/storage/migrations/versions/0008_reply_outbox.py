"""An outbox for replies to Bot Framework customers: per conversation, the last message
delivered, and the replica delivering now with its lease.

Existing conversations start delivered up to their newest message, so nothing already sent
goes out again.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from integrations.storage.tables import UtcDateTime

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("bot_references") as batch:
        batch.add_column(
            sa.Column("delivered_through", sa.BigInteger, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("delivery_owner", sa.String(64)))
        batch.add_column(sa.Column("delivery_until", UtcDateTime))
    op.execute(
        "UPDATE bot_references SET delivered_through = COALESCE((SELECT MAX(messages.id) "
        "FROM messages WHERE messages.conversation_id = bot_references.conversation_id), 0) "
        "WHERE conversation_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("bot_references") as batch:
        batch.drop_column("delivery_until")
        batch.drop_column("delivery_owner")
        batch.drop_column("delivered_through")
