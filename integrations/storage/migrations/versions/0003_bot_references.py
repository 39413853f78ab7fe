"""Bot Framework conversation references: the Teams agent channel, and customer conversations
that arrive over Bot Framework channels.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from integrations.storage.tables import UtcDateTime

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "bot_references",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("conversation_id", sa.String(64)),
        sa.Column("reference", sa.JSON, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_bot_references_conversation", "bot_references", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("bot_references")
