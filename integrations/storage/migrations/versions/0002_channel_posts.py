"""Cards posted into agent channels (Slack, Teams): where each escalation's card lives.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from integrations.storage.tables import UtcDateTime

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "channel_posts",
        sa.Column("escalation_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("ref", sa.String(255)),
        sa.Column("extra", sa.JSON, nullable=False),
        sa.Column("claimed_at", UtcDateTime, nullable=False),
        sa.Column("posted_at", UtcDateTime),
    )
    op.create_index("ix_channel_posts_ref", "channel_posts", ["kind", "channel", "ref"])


def downgrade() -> None:
    op.drop_table("channel_posts")
