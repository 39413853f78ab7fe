"""The settings model. Environment variables use the prefix ``TANDEM_`` and ``__`` for nesting.

Example: ``TANDEM_KNOWLEDGE__DATA_DIR=/var/lib/tandem`` sets ``settings.knowledge.data_dir``.

Over 300 lines on purpose: every setting, with its bounds and description, in one file that
``config/example.env`` and ``tandem config show`` mirror.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KnowledgeSettings(BaseModel):
    """Where the knowledge base lives and how it is searched."""

    data_dir: Path = Field(default=Path("./data"), description="Directory for the embedded stores.")
    chroma_url: str | None = Field(
        default=None, description="A Chroma server (http://host:8000); unset uses embedded Chroma."
    )
    collection: str = Field(default="tandem_kb", min_length=3, max_length=63)
    top_k: int = Field(default=20, ge=1, le=200, description="Neighbours fetched per query.")
    answer_threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Confidence needed to answer. Unset: the calibrated value, else 0.5.",
    )
    expected_out_of_scope: float = Field(
        default=0.5,
        ge=0.05,
        le=0.95,
        description="Share of questions the knowledge base does not cover, assumed by calibration "
        "(real traffic of live bots: 0.42-0.72).",
    )
    follow_traffic_share: bool = Field(
        default=True,
        description="Raise the threshold when the latest questions show a larger out-of-scope "
        "share than expected_out_of_scope (never lower it).",
    )
    learned_confidence: Literal["few_variants", "off"] = Field(
        default="few_variants",
        description="Where question variants are few (a median of 8 or fewer, as well as "
        "coverage_check's conditions) and the knowledge base has at most 40 articles, answer "
        "on the confidence learned across small "
        "deployments' live traffic (knowledge/answer_model.py, at its own threshold) instead "
        "of the calibrated one; off keeps the calibrated one everywhere. The model reads "
        "coverage as one of its features, so coverage_check (even always) is not applied "
        "beside it.",
    )
    coverage_check: Literal["few_variants", "always", "off"] = Field(
        default="few_variants",
        description="Escalate an answer when more than 0.4 (bot.policy.MAX_UNCOVERED) of "
        "the question's weighted words are missing from its article's text: on knowledge "
        "bases with few question variants an article (few_variants: a median of 10 or fewer, "
        "at least 3 articles, calibrated, and no pinned answer_threshold), always, or off.",
    )
    traffic_min_questions: int = Field(
        default=200,
        ge=50,
        le=1000,
        description="Questions decided on confidence needed before their share counts.",
    )
    ingest_sample_on_first_start: bool = True
    change_check_seconds: float = Field(
        default=30.0,
        ge=1.0,
        le=3600.0,
        description="On a Chroma server: how often a serving replica checks whether the "
        "knowledge base changed elsewhere (another replica's ingest, an admin's `tandem kb "
        "ingest`) and picks the change up.",
    )
    max_file_mb: float = Field(default=20.0, gt=0, description="Larger files are refused.")
    chunk_size: int = Field(default=1200, ge=200, le=8000, description="Characters per chunk.")
    chunk_overlap: int = Field(default=150, ge=0, le=2000)
    exact_search_max_chunks: int = Field(
        default=10_000,
        ge=0,
        description="Up to this many chunks, search the vectors in memory (exact); 0: Chroma.",
    )


class EmbeddingsSettings(BaseModel):
    """Which embedding model turns text into vectors."""

    provider: Literal["minilm-onnx", "sentence-transformers", "openai", "ollama"] = "minilm-onnx"
    model: str | None = Field(
        default=None,
        description="Model name or path (sentence-transformers, openai and ollama providers).",
    )
    base_url: str | None = Field(default=None, description="Endpoint for openai/ollama providers.")
    api_key: SecretStr | None = None
    batch_size: int = Field(default=32, ge=1, le=1024)
    threads: int = Field(
        default=1, ge=1, le=64, description="ONNX Runtime intra-op threads (minilm-onnx)."
    )
    batch_wait_ms: float = Field(
        default=2.0,
        ge=0.0,
        le=100.0,
        description="Under load, how long concurrent queries wait to share a batch (never idle).",
    )


class StorageSettings(BaseModel):
    """The conversation store."""

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL: sqlite:///… (one replica; statements run on the event "
        "loop, see integrations/storage/database.py) or postgresql+asyncpg://… (replicas). "
        "Unset: SQLite at <knowledge.data_dir>/tandem.db.",
    )
    redis_url: str | None = Field(default=None, description="Redis event bus for replicas.")


class SlackSettings(BaseModel):
    """Slack as the agent channel. Off unless a bot token and signing secret are set."""

    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = Field(default=None, description="For Socket Mode.")
    socket_mode: bool = False
    api_url: str = "https://slack.com/api/"
    default_channel: str | None = Field(default=None, description="Where cards go by default.")
    routes: dict[str, str] = Field(
        default_factory=dict,
        description="Intent (article title, id or tag) or escalation reason → channel id.",
    )
    mention_group: str | None = Field(default=None, description="User group id to mention.")
    admin_user_ids: list[str] = Field(default_factory=list)
    admin_group: str | None = Field(default=None, description="User group whose members admin.")

    @property
    def enabled(self) -> bool:
        return self.bot_token is not None and self.signing_secret is not None


class TeamsSettings(BaseModel):
    """Microsoft Teams / Bot Framework. On when ``enabled`` or an app id is set; an empty app id
    turns authentication off (local use and tests only)."""

    enabled: bool = False
    app_id: str = ""
    app_password: SecretStr | None = None
    tenant_id: str | None = None
    agent_team_id: str | None = None
    agent_channel_id: str | None = None
    admin_object_ids: list[str] = Field(default_factory=list)
    mention_tag_id: str | None = Field(
        default=None, description="Teams tag mentioned when a card is re-announced."
    )
    mention_tag_name: str | None = Field(default=None, description="That tag's name.")
    privacy_url: str | None = Field(
        default=None, description="Your privacy statement (https), for the Teams app package."
    )
    terms_url: str | None = Field(
        default=None, description="Your terms of use (https), for the Teams app package."
    )

    @property
    def active(self) -> bool:
        return self.enabled or bool(self.app_id)


class LLMSettings(BaseModel):
    """An optional LLM (through langchain) for drafts, summaries and assists; off by default.

    ``openai`` with a ``base_url`` reaches any OpenAI-compatible endpoint (vLLM, LM Studio, a
    gateway). ``azure_openai`` reads ``base_url`` as the Azure endpoint and ``model`` as the
    deployment.
    """

    provider: Literal["none", "openai", "azure_openai", "anthropic", "ollama"] = "none"
    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    api_version: str | None = Field(default=None, description="Azure OpenAI API version.")
    timeout_s: float = Field(default=20.0, gt=0, le=300, description="Per LLM call, in all.")
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(default=700, ge=16, le=16000, description="Tokens per answer.")
    max_input_chars: int = Field(
        default=12000, ge=1000, le=400000, description="Prompt budget; older turns are cut."
    )
    structured_method: Literal["function_calling", "json_schema", "json_mode"] = "function_calling"
    streaming: bool = Field(default=False, description="Stream completions from the provider.")
    mask_personal_data: bool = Field(
        default=True, description="Mask emails, phones and mask_patterns before sending."
    )
    mask_patterns: list[str] = Field(
        default_factory=list, description="Extra regexes whose matches are masked before sending."
    )
    on_unverified: Literal["warn", "replace"] = Field(
        default="warn",
        description="A draft with facts not found in the passages or the conversation: show it "
        "with an 'unverified: …' warning, or replace it with the extractive draft.",
    )
    breaker_failures: int = Field(default=3, ge=1, le=100, description="Failures in a row.")
    breaker_cooldown_s: float = Field(default=60.0, gt=0, le=3600)
    answer_mode: Literal["extractive", "generative"] = "extractive"
    assist: bool = Field(default=True, description="Live-assist suggestions during a take-over.")
    propose_articles: bool = Field(
        default=True, description="Propose a knowledge article from an agent's edited reply."
    )

    @field_validator("mask_patterns")
    @classmethod
    def _patterns_compile(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"not a regular expression: {error}") from None
        return value

    @property
    def enabled(self) -> bool:
        return self.provider != "none"


# Signals that are not sensitive topics (``knowledge.heads``): a topic of the same name would be
# read into that signal's level, so the name is refused.
NOT_TOPIC_NAMES = frozenset({"frustration", "human_request", "complaint", "gratitude"})


def _topic_names_free(names: list[str]) -> None:
    taken = sorted(set(names) & NOT_TOPIC_NAMES)
    if taken:
        raise ValueError(f"{', '.join(taken)}: the name of a signal, not a topic; choose another")


class EscalationSettings(BaseModel):
    """When the bot hands a conversation to a person."""

    ambiguity_margin: float = Field(
        default=0.03, ge=0.0, le=1.0, description="Cosine margin under which two articles tie."
    )
    frustration_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    max_failed_turns: int = Field(default=2, ge=1, le=20)
    sensitive_topics: list[str] = Field(
        default_factory=lambda: [
            "legal",
            "fraud",
            "safety",
            "personal_data",
            "cancellation",
            "bereavement",
            "crisis",
        ],
        description="Built-in sensitive topics that escalate: a learned head and a pattern each, "
        "a pattern only for bereavement and crisis (a customer at risk).",
    )
    topic_patterns: dict[str, str] = Field(
        default_factory=dict,
        description="Extra sensitive topics (or overrides) by name: a regular expression each.",
    )
    topic_examples: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Extra sensitive topics by name, each defined by a few example phrases; a "
        "message close enough to one of them (see topic_example_similarity) escalates.",
    )
    topic_example_similarity: float = Field(
        default=0.5,
        ge=0.3,
        le=0.99,
        description="Cosine similarity to an example (or their centroid) that flags.",
    )

    @field_validator("sensitive_topics")
    @classmethod
    def _renamed_topics(cls, value: list[str]) -> list[str]:
        return ["cancellation" if name == "contract_cancel" else name for name in value]

    @field_validator("topic_examples")
    @classmethod
    def _example_names_free(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        _topic_names_free(list(value))
        return value

    @field_validator("topic_patterns")
    @classmethod
    def _patterns_compile(cls, value: dict[str, str]) -> dict[str, str]:
        _topic_names_free(list(value))
        for name, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"topic {name!r}: invalid regular expression ({error})") from error
        return value

    mask_personal_data: bool = True
    expected_wait_minutes: int = Field(
        default=5,
        ge=1,
        le=1440,
        description="The wait quoted while too few recent pick-ups give a live estimate.",
    )
    answer_while_waiting: bool = Field(
        default=True,
        description="While a customer waits for a person, answer a new routine question the "
        "bot is confident about (otherwise every message is acknowledged).",
    )
    reannounce_after_minutes: int = Field(
        default=10,
        ge=0,
        le=1440,
        description="Re-announce an escalation nobody picked up after this many minutes, and "
        "again every as many minutes (0 never).",
    )


class LearningSettings(BaseModel):
    """How agents' labels teach the bot."""

    trusted_agents: list[str] = Field(
        default_factory=list,
        description="Agents (desk usernames, Slack user ids, Teams AAD ids) whose article tags "
        "become question variants at once; everyone else's wait for an admin.",
    )
    min_live_outcomes: int = Field(
        default=50,
        ge=5,
        le=100_000,
        description="Tagged escalations needed before they lower the answer threshold, and bot "
        "answers before the wrong ones customers report can raise it.",
    )
    live_recalibration: bool = Field(
        default=True, description="Let enough live outcomes move the threshold."
    )
    live_refresh_seconds: float = Field(
        default=60.0,
        ge=1.0,
        le=3600.0,
        description="How often every replica reads the live outcomes, the answers and the "
        "shared traffic window again (an agent's tag also reads the outcomes at once, on the "
        "replica that took it).",
    )
    answer_retention_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="How long the bot's answers (their confidence and whether they were "
        "rejected) are kept for the live estimate; older ones are deleted.",
    )


class ServerSettings(BaseModel):
    """The HTTP server."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str = ""  # unset: derived from the address the service serves on
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["console", "json"] = "console"
    max_message_chars: int = Field(default=4000, ge=100, le=20000)
    rate_limit_per_minute: int = Field(
        default=20, ge=1, le=1000, description="Customer messages per conversation per minute."
    )
    messages_per_address_per_minute: int = Field(
        default=300,
        ge=1,
        le=100_000,
        description="Customer messages per client address per minute (raise it behind a proxy "
        "that hides client addresses).",
    )
    conversations_per_address_per_minute: int = Field(
        default=10,
        ge=1,
        le=100_000,
        description="Conversations one client address may open per minute.",
    )
    desk_session_hours: float = Field(default=12.0, gt=0, le=720)
    widget_origins: list[str] = Field(
        default_factory=list,
        description="Pages of other sites that may embed the chat widget, as origins "
        "(https://shop.example); '*' allows any. Empty: the widget works on Tandem's own origin.",
    )
    message_lease_seconds: float = Field(
        default=30.0,
        ge=3,
        le=3600,
        description="How long a replica's claim on a customer message lasts (renewed while it "
        "works on it): how long a dead replica's messages wait for another replica.",
    )
    recovery_sweep_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="How often each replica looks for messages nobody is handling.",
    )

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


class Settings(BaseSettings):
    """All of Tandem's settings, built once at start and passed down through constructors."""

    model_config = SettingsConfigDict(
        env_prefix="TANDEM_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        validate_default=True,
    )

    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    embeddings: EmbeddingsSettings = Field(default_factory=EmbeddingsSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    teams: TeamsSettings = Field(default_factory=TeamsSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    escalation: EscalationSettings = Field(default_factory=EscalationSettings)
    learning: LearningSettings = Field(default_factory=LearningSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
