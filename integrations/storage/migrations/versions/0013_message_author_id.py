"""Who wrote an agent's message, by their stable id on its channel (``slack:U…``,
``desk:alice``) beside the display name: a customer writing back to that agent can then be
routed to them (a Slack mention), where a display name is neither unique nor addressable.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    op.add_column("messages", sa.Column("author_id", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("author_id")
