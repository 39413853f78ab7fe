"""Build Tandem's parts from the settings: the one place that wires adapters to the core."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.bus import LocalBus
from bot.drafting import Drafter
from bot.engine import ConversationEngine, EngineConfig
from bot.extractive import ExtractiveDrafter
from bot.policy import PolicyConfig, Responder
from bot.ports import EventBus
from bot.signals import DEFAULT_SENSITIVE_TOPICS, compile_topics
from config import KnowledgeSettings, ServerSettings, Settings
from knowledge.base import KnowledgeBase
from knowledge.embeddings import build_embedding_model
from knowledge.heads.reader import HeadReader, load_conversation_frustration, load_heads

if TYPE_CHECKING:  # the server's parts load when it starts, not for every CLI command
    from integrations.metrics import PrometheusMetrics
    from integrations.storage import SqlStore
    from integrations.storage.learning import LearningStore

logger = logging.getLogger(__name__)
SAMPLE_KB = Path(__file__).resolve().parent.parent / "knowledge" / "sample"


def open_knowledge_base(
    settings: Settings, *, data_dir: Path | None = None, knowledge: KnowledgeSettings | None = None
) -> KnowledgeBase:
    """Open (or create) the knowledge base the settings describe."""
    return KnowledgeBase(
        settings=knowledge or settings.knowledge,
        embeddings=build_embedding_model(settings.embeddings),
        data_dir=data_dir,
    )


def policy_config(settings: Settings, reader: HeadReader | None = None) -> PolicyConfig:
    """The escalation policy from the settings.

    Args:
        settings: All settings.
        reader: The signal reader: the topics it can flag (its heads and example phrases);
            with its heads, the model of frustration over a conversation fitted on their
            readings (None: patterns and rules only).
    """
    learned_topics = reader.topics if reader else frozenset()
    escalation = settings.escalation
    patterns = {**DEFAULT_SENSITIVE_TOPICS, **escalation.topic_patterns}
    # In the settings' order (not a set's): the card lists topics the same way on every replica.
    enabled = list(
        dict.fromkeys(
            [*escalation.sensitive_topics, *escalation.topic_patterns, *escalation.topic_examples]
        )
    )
    return PolicyConfig(
        ambiguity_margin=escalation.ambiguity_margin,
        frustration_threshold=escalation.frustration_threshold,
        topics=compile_topics(patterns, enabled),
        learned_topics=frozenset(enabled) & learned_topics,
        conversation_frustration=(
            load_conversation_frustration(heads=reader.heads)
            if reader and reader.heads is not None
            else None
        ),
    )


def build_reader(settings: Settings, knowledge_base: KnowledgeBase) -> HeadReader:
    """The signal heads over the knowledge base's (cached) query embeddings."""
    escalation = settings.escalation
    return HeadReader(
        embed=knowledge_base.query_embeddings.embed,
        heads=load_heads(knowledge_base.query_embeddings.name),
        topic_examples=escalation.topic_examples,
        example_similarity=escalation.topic_example_similarity,
    )


def build_responder(settings: Settings, knowledge_base: KnowledgeBase) -> Responder:
    """The responder that live traffic and evaluation share."""
    reader = build_reader(settings, knowledge_base)
    return Responder(
        retriever=knowledge_base,
        config=policy_config(settings, reader),
        reader=reader,
        traffic=knowledge_base,
    )


def ingest_sample_if_empty(settings: Settings, knowledge_base: KnowledgeBase) -> bool:
    """On a first start, fill an empty knowledge base with the sample shop's articles."""
    if not settings.knowledge.ingest_sample_on_first_start or knowledge_base.store.count():
        return False
    logger.info("first start: ingesting the sample knowledge base (about a minute)")
    report = knowledge_base.ingest([SAMPLE_KB])
    logger.info(
        "sample knowledge base ingested: %d files, %d chunks", len(report.added), report.chunks
    )
    return True


def database_url(settings: Settings) -> str:
    """The conversation store's URL: the setting, else SQLite in the data directory."""
    if settings.storage.url:
        return settings.storage.url
    settings.knowledge.data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{settings.knowledge.data_dir.resolve() / 'tandem.db'}"


@dataclass
class Services:
    """Everything a running Tandem holds, built once at start-up and passed down."""

    settings: Settings
    knowledge_base: KnowledgeBase
    store: SqlStore
    bus: EventBus
    metrics: PrometheusMetrics
    engine: ConversationEngine

    @property
    def learning(self) -> LearningStore:
        """What agents taught and the bot's live outcomes, in the store's database."""
        from integrations.storage.learning import LearningStore

        return LearningStore(self.store)

    async def close(self) -> None:
        await self.engine.aclose()
        await self.bus.close()
        await self.store.close()
        aclose = getattr(self.engine.drafter, "aclose", None)  # the LLM drafter's connections
        if aclose is not None:
            await aclose()


async def build_bus(settings: Settings) -> EventBus:
    """The Redis bus when a URL is set (several replicas), else the in-process one."""
    if not settings.storage.redis_url:
        return LocalBus()
    from integrations.bus import RedisBus

    bus = RedisBus(settings.storage.redis_url)
    await bus.start()
    return bus


def build_drafter(settings: Settings, metrics: PrometheusMetrics | None = None) -> Drafter:
    """The extractive drafter, or the LLM drafter over it when ``TANDEM_LLM__PROVIDER`` is set.

    The LLM drafter answers the port at once with the extractive result; its ``refine`` brings
    the LLM's summary and draft for the card (see ``integrations.llm.drafter``)."""
    mask = settings.escalation.mask_personal_data
    if not settings.llm.enabled:
        return ExtractiveDrafter(mask_personal_data=mask)
    from config import SettingsError
    from integrations.llm.assist import AssistingDrafter
    from integrations.llm.client import LLMClient
    from integrations.llm.models import LLMConfigError

    try:
        client = LLMClient.from_settings(settings.llm, metrics=metrics)
    except LLMConfigError as error:
        raise SettingsError(f"invalid setting TANDEM_LLM__*: {error}") from error
    return AssistingDrafter(client=client, settings=settings.llm, card_masking=mask)


WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def public_url(server: ServerSettings) -> str:
    """The URL desk links point at: ``TANDEM_SERVER__PUBLIC_URL`` when set, else the address
    the service serves on (a wildcard host is reached at 127.0.0.1 on the machine itself)."""
    if server.public_url:
        return server.public_url.rstrip("/")
    host = "127.0.0.1" if server.host in WILDCARDS else server.host
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{server.port}"


def serving_on(settings: Settings, host: str | None, port: int | None) -> Settings:
    """The settings of a service that serves on ``host``/``port`` (overrides of the settings),
    its public URL derived from them unless set."""
    server = settings.server.model_copy(
        update={
            "host": host or settings.server.host,
            "port": port if port is not None else settings.server.port,
        }
    )
    server = server.model_copy(update={"public_url": public_url(server)})
    return settings.model_copy(update={"server": server})


def engine_config(settings: Settings) -> EngineConfig:
    escalation = settings.escalation
    return EngineConfig(
        max_failed_turns=escalation.max_failed_turns,
        frustration_threshold=escalation.frustration_threshold,
        expected_wait_minutes=escalation.expected_wait_minutes,
        answer_while_waiting=escalation.answer_while_waiting,
        reannounce_after_minutes=escalation.reannounce_after_minutes,
        public_url=public_url(settings.server),
        mask_personal_data=escalation.mask_personal_data,
        lease_seconds=settings.server.message_lease_seconds,
    )


async def build_services(
    settings: Settings, knowledge_base: KnowledgeBase | None = None
) -> Services:
    """Open the knowledge base (unless given), the store (migrated) and the bus, and wire the
    engine."""
    from integrations.metrics import PrometheusMetrics
    from integrations.storage import open_store

    if knowledge_base is None:
        knowledge_base = await asyncio.to_thread(open_knowledge_base, settings)
        await asyncio.to_thread(ingest_sample_if_empty, settings, knowledge_base)
    store = await open_store(database_url(settings))
    bus = await build_bus(settings)
    metrics = PrometheusMetrics()
    metrics.watch_knowledge_base(knowledge_base)
    engine = ConversationEngine(
        store=store,
        responder=build_responder(settings, knowledge_base),
        drafter=build_drafter(settings, metrics),
        bus=bus,
        config=engine_config(settings),
        metrics=metrics,
        catalogue=knowledge_base.catalogue,
    )
    return Services(settings, knowledge_base, store, bus, metrics, engine)
