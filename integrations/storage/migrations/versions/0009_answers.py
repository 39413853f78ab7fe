"""The bot's answers at their confidence: what the wrong answers customers report are weighed
against when live outcomes move the threshold.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from integrations.storage.tables import UtcDateTime

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("article_id", sa.String(255), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_answers_at", "answers", ["at"])


def downgrade() -> None:
    op.drop_table("answers")
