"""Rows ⇄ domain objects."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from bot.conversation import (
    INTERNAL_KINDS,
    ArticleRef,
    AuditEntry,
    Conversation,
    Escalation,
    EscalationStatus,
    Kind,
    Message,
    Source,
    State,
    Summary,
)
from bot.learning import Answered, NotedQuestion, Outcome

INTERNAL = INTERNAL_KINDS


def conversation(row: dict[str, Any]) -> Conversation:
    return Conversation(
        id=row["id"],
        channel=row["channel"],
        state=State(row["state"]),
        version=row["version"],
        created_at=row["created_at"],
        holder=row["holder"],
        failed_turns=row["failed_turns"],
        last_answer_article=row["last_answer_article"],
        customer=row["customer"],
    )


def message(row: dict[str, Any]) -> Message:
    return Message(
        id=int(row["id"]),
        conversation_id=row["conversation_id"],
        kind=Kind(row["kind"]),
        text=row["text"],
        created_at=row["created_at"],
        sources=tuple(Source(s["title"], s.get("url")) for s in row["sources"] or ()),
        author=row["author"],
        handled=bool(row["handled"]),
        author_id=row["author_id"],
    )


def escalation_row(escalation: Escalation) -> dict[str, Any]:
    return {
        "id": escalation.id,
        "conversation_id": escalation.conversation_id,
        "status": escalation.status.value,
        "reasons": list(escalation.reasons),
        "summary": escalation.summary.to_json(),
        "articles": [a.to_json() for a in escalation.articles],
        "draft": escalation.draft,
        "draft_version": escalation.draft_version,
        "holder": escalation.holder,
        "created_at": escalation.created_at,
        "first_action_at": escalation.first_action_at,
    }


def escalation(row: dict[str, Any]) -> Escalation:
    return Escalation(
        id=row["id"],
        conversation_id=row["conversation_id"],
        status=EscalationStatus(row["status"]),
        reasons=tuple(row["reasons"]),
        summary=Summary.from_json(row["summary"]),
        articles=tuple(ArticleRef.from_json(a) for a in row["articles"]),
        draft=row["draft"],
        draft_version=row["draft_version"],
        created_at=row["created_at"],
        first_action_at=row["first_action_at"],
        holder=row["holder"],
    )


def audit_row(entry: AuditEntry) -> dict[str, Any]:
    return dataclasses.asdict(entry)  # the audit table's columns are the entry's fields


def audit_entry(row: dict[str, Any]) -> AuditEntry:
    return AuditEntry(**{field.name: row[field.name] for field in dataclasses.fields(AuditEntry)})


def noted_row(noted: NotedQuestion, at: datetime) -> dict[str, Any]:
    return {
        "confidence": float(noted.confidence),
        "calibrated_threshold": float(noted.calibrated_threshold),
        "at": at,
    }


def answered_row(answered: Answered) -> dict[str, Any]:
    """A bot answer as an ``answers`` row."""
    return {
        "conversation_id": answered.conversation_id,
        "article_id": answered.article_id[:255],
        "confidence": float(answered.confidence),
        "at": answered.at or datetime.now(UTC),
        "verdict": answered.verdict,
        "question": answered.question,
        "review": answered.review,
    }


def outcome_row(outcome: Outcome) -> dict[str, Any]:
    """A live outcome as an ``outcomes`` row."""
    return {
        "question": outcome.question[:4000],
        "article_id": outcome.article_id,
        "confidence": float(outcome.confidence),
        "correct": outcome.correct,
        "source": outcome.source,
        "conversation_id": outcome.conversation_id,
        "at": outcome.at or datetime.now(UTC),
    }
