"""What became known of each bot answer (``verdict``): a wrong answer is weighed at the
confidence it was given with, against the answers it is one of, and an agent who confirms the
article voids the customer's rejection.

Each answer already rejected or corrected (an ``outcomes`` row) marks the latest answer of that
article in its conversation given before it.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"

_WRONG = "('customer_rejected', 'agent_corrected')"


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("verdict", sa.String(32)))
    op.create_index("ix_answers_conversation_id", "answers", ["conversation_id"])
    # Each rejection or correction marks the latest answer of its article in its conversation
    # given before it (one answer per outcome).
    op.execute(
        "UPDATE answers SET verdict = (SELECT MIN(o.source) FROM outcomes o"
        " WHERE o.conversation_id = answers.conversation_id"
        f" AND o.article_id = answers.article_id AND o.source IN {_WRONG})"
        " WHERE answers.id IN (SELECT (SELECT MAX(a.id) FROM answers a"
        " WHERE a.conversation_id = o.conversation_id AND a.article_id = o.article_id"
        f" AND a.at <= o.at) FROM outcomes o WHERE o.source IN {_WRONG})"
    )


def downgrade() -> None:
    op.drop_index("ix_answers_conversation_id", "answers")
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("verdict")
