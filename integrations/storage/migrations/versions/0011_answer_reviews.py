"""Answer review: each answer keeps the question it answered, so that an agent can review a
random sample of the bot's answers (``review``: right or wrong, and who said so).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("question", sa.Text()))
        batch.add_column(sa.Column("review", sa.String(16)))
        batch.add_column(sa.Column("reviewer", sa.String(255)))


def downgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("reviewer")
        batch.drop_column("review")
        batch.drop_column("question")
