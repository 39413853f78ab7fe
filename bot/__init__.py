"""Tandem's core: conversations, the engine that runs them, and the ports adapters implement.
It imports no platform SDK. Adapters use the names below; the submodules are internals."""

from __future__ import annotations

from bot.actions import Plan, Situation, plan_action
from bot.card import EscalationCard, build_card
from bot.conversation import (
    ACTIVE_STATUSES,
    ActionKind,
    ActionResult,
    AgentAction,
    AuditEntry,
    Conversation,
    Escalation,
    EscalationStatus,
    Kind,
    KnowledgeSuggestion,
    Message,
    Source,
    State,
)
from bot.drafting import Drafter
from bot.engine import ConversationEngine, EngineConfig, hash_secret
from bot.errors import (
    IllegalTransition,
    InvalidAction,
    StoreConflict,
    TandemError,
    UnknownConversation,
)
from bot.events import AGENTS, CUSTOMERS, AgentEvent, CustomerEvent, customer_topic
from bot.extractive import ExtractiveDrafter
from bot.metrics import Metrics, NullMetrics
from bot.model import Decision, Retrieval
from bot.ports import Applied, Change, ConversationStore, EventBus, NewMessage, Retriever

__all__ = [
    "ACTIVE_STATUSES",
    "AGENTS",
    "CUSTOMERS",
    "ActionKind",
    "ActionResult",
    "AgentAction",
    "AgentEvent",
    "Applied",
    "AuditEntry",
    "Change",
    "Conversation",
    "ConversationEngine",
    "ConversationStore",
    "CustomerEvent",
    "Decision",
    "Drafter",
    "EngineConfig",
    "Escalation",
    "EscalationCard",
    "EscalationStatus",
    "EventBus",
    "ExtractiveDrafter",
    "IllegalTransition",
    "InvalidAction",
    "Kind",
    "KnowledgeSuggestion",
    "Message",
    "Metrics",
    "NewMessage",
    "NullMetrics",
    "Plan",
    "Retrieval",
    "Retriever",
    "Situation",
    "Source",
    "State",
    "StoreConflict",
    "TandemError",
    "UnknownConversation",
    "build_card",
    "customer_topic",
    "hash_secret",
    "plan_action",
]
