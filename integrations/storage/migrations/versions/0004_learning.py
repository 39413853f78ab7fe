"""Learning from agents: a suggestion may name the article a question belongs to (a question
variant) or say it is not in the knowledge base; live outcomes of the bot's choices.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from integrations.storage.tables import UtcDateTime

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("suggestions") as batch:
        batch.add_column(sa.Column("article_id", sa.String(255)))
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="answer"))
    op.create_table(
        "outcomes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("article_id", sa.String(255)),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("correct", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(64)),
        sa.Column("at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_outcomes_at", "outcomes", ["at"])


def downgrade() -> None:
    op.drop_table("outcomes")
    with op.batch_alter_table("suggestions") as batch:
        batch.drop_column("kind")
        batch.drop_column("article_id")
