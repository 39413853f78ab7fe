"""Build Tandem's parts from the settings: the one place that wires adapters to the core."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.policy import PolicyConfig, Responder
from bot.signals import DEFAULT_SENSITIVE_TOPICS, compile_topics
from config import KnowledgeSettings, Settings
from knowledge.base import KnowledgeBase
from knowledge.embeddings import build_embedding_model

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


def policy_config(settings: Settings) -> PolicyConfig:
    """The escalation policy from the settings."""
    escalation = settings.escalation
    return PolicyConfig(
        ambiguity_margin=escalation.ambiguity_margin,
        frustration_threshold=escalation.frustration_threshold,
        topics=compile_topics(DEFAULT_SENSITIVE_TOPICS, escalation.sensitive_topics),
    )


def build_responder(settings: Settings, knowledge_base: KnowledgeBase) -> Responder:
    """The responder that live traffic and evaluation share."""
    return Responder(retriever=knowledge_base.searcher(), config=policy_config(settings))


def ingest_sample_if_empty(settings: Settings, knowledge_base: KnowledgeBase) -> bool:
    """On a first start, fill an empty knowledge base with the sample shop's articles."""
    if not settings.knowledge.ingest_sample_on_first_start or knowledge_base.store.count():
        return False
    report = knowledge_base.ingest([SAMPLE_KB])
    logger.info(
        "sample knowledge base ingested: %d files, %d chunks", len(report.added), report.chunks
    )
    return True
