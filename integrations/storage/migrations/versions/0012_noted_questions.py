"""The traffic window in the database: each customer question decided on confidence alone, at
its confidence and the calibrated threshold it was read under, so that every replica reads one
out-of-scope share and a restart keeps it.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from integrations.storage.tables import UtcDateTime

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.create_table(
        "noted_questions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("calibrated_threshold", sa.Float(), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("noted_questions")
