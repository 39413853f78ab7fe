"""The schema, in SQLAlchemy Core. Migrations under ``migrations/`` create it; keep them in step."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData()
Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


MAX_ID = 2**53  # the largest row id any caller may name: larger ones overflow the integers

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("channel", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("holder", String(255)),
    Column("failed_turns", Integer, nullable=False, default=0),
    Column("last_answer_article", String(255)),
    Column("customer", String(255)),
    Column("secret_hash", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("text", Text, nullable=False),
    Column("sources", JSON, nullable=False),
    Column("author", String(255)),
    Column("author_id", String(255)),  # an agent's stable id on its channel (``slack:U…``)
    Column("handled", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Which replica is handling an unhandled customer message, and until when (a lease).
    Column("lease_owner", String(64)),
    Column("lease_until", UtcDateTime),
    Index("ix_messages_conversation", "conversation_id", "id"),
    Index("ix_messages_handled", "handled"),
)

escalations = Table(
    "escalations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("conversation_id", String(64), ForeignKey("conversations.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("articles", JSON, nullable=False),
    Column("draft", Text, nullable=False),
    Column("draft_version", Integer, nullable=False),
    Column("holder", String(255)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("first_action_at", UtcDateTime),
    Index("ix_escalations_conversation", "conversation_id"),
    Index("ix_escalations_status", "status", "created_at"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", String(64), nullable=False, index=True),
    Column("escalation_id", String(64)),
    Column("actor", String(255), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16)),
    Column("detail", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

action_keys = Table(
    "action_keys",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
)

suggestions = Table(
    "suggestions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("agent", String(255), nullable=False),
    Column("conversation_id", String(64), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    # A question variant for an existing article, or "not in the knowledge base" (kind).
    Column("article_id", String(255)),
    Column("kind", String(16), nullable=False, server_default="answer"),
    # How many times it was taught (near-identical pending suggestions are merged).
    Column("count", Integer, nullable=False, server_default="1"),
    # A model's proposed article for an answer: {"title", "question", "answer"}.
    Column("proposal", JSON(none_as_null=True)),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("article_id", String(255)),
    Column("confidence", Float, nullable=False),
    Column("correct", Boolean, nullable=False),
    Column("source", String(32), nullable=False),
    Column("conversation_id", String(64)),
    Column("at", UtcDateTime, nullable=False, index=True),
)

# The bot's answers at their confidence, and what became known of each (``verdict``): the wrong
# ones are weighed against all of them (``bot.learning.live_estimate``).
answers = Table(
    "answers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", String(64), nullable=False, index=True),
    Column("article_id", String(255), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("verdict", String(32)),
    # The question it answered, and an agent's review of a random sample (``review``: right or
    # wrong): the one unbiased measure of the answers' precision.
    Column("question", Text),
    Column("review", String(16)),
    Column("reviewer", String(255)),
)

# The customer questions the bot decided on confidence alone, at that confidence and under the
# calibrated threshold of the model that gave it: the traffic window every replica reads the
# out-of-scope share from (``knowledge.traffic``). The newest are kept (``forget_noted``).
noted_questions = Table(
    "noted_questions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("confidence", Float, nullable=False),
    Column("calibrated_threshold", Float, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

agents = Table(
    "agents",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("display_name", String(255), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(128), primary_key=True),
    Column("username", String(64), ForeignKey("agents.username"), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

channel_posts = Table(
    "channel_posts",
    metadata,
    Column("escalation_id", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),  # slack | teams
    Column("channel", String(255), nullable=False),
    Column("ref", String(255)),  # Slack message ts, Teams activity id; NULL until posted
    Column("extra", JSON, nullable=False),  # e.g. a Teams conversation reference
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("posted_at", UtcDateTime),
    Index("ix_channel_posts_ref", "kind", "channel", "ref"),
)

bot_references = Table(
    "bot_references",
    metadata,
    Column("key", String(255), primary_key=True),  # "agent-channel" or "customer:<bf conv id>"
    Column("conversation_id", String(64)),  # Tandem's, for customer conversations
    Index("ix_bot_references_conversation", "conversation_id"),
    Column("reference", JSON, nullable=False),  # a serialized ConversationReference
    Column("updated_at", UtcDateTime, nullable=False),
    # The outbox of a customer conversation: its replies up to this message id are delivered;
    # the replica delivering the rest now, and until when (a lease).
    Column("delivered_through", BigInteger, nullable=False, server_default="0"),
    Column("delivery_owner", String(64)),
    Column("delivery_until", UtcDateTime),
)
