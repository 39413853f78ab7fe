"""Prometheus metrics for ``/metrics``: the engine's ``Metrics`` port on its own registry."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class PrometheusMetrics:
    """Counters and histograms per process (Prometheus sums replicas)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.conversations = Counter(
            "tandem_conversations", "Conversations started", ["channel"], registry=self.registry
        )
        self.answers = Counter(
            "tandem_answers", "Questions the bot answered", registry=self.registry
        )
        self.escalations = Counter(
            "tandem_escalations", "Escalations by reason", ["reason"], registry=self.registry
        )
        self.actions = Counter(
            "tandem_agent_actions", "Agent actions", ["action", "channel"], registry=self.registry
        )
        self.first_action = Histogram(
            "tandem_time_to_first_agent_action_seconds",
            "From escalation to the first agent action",
            buckets=(5, 15, 30, 60, 120, 300, 600, 1800, 3600),
            registry=self.registry,
        )
        self.card_failures = Counter(
            "tandem_card_post_failures", "Failed card posts", ["channel"], registry=self.registry
        )

    def conversation_started(self, channel: str) -> None:
        self.conversations.labels(channel).inc()

    def answered(self) -> None:
        self.answers.inc()

    def escalated(self, reasons: Sequence[str]) -> None:
        for reason in reasons:
            self.escalations.labels(reason).inc()

    def agent_action(
        self, action: str, channel: str, seconds_since_escalation: float | None
    ) -> None:
        self.actions.labels(action, channel).inc()
        if seconds_since_escalation is not None:
            self.first_action.observe(seconds_since_escalation)

    def card_failed(self, channel: str) -> None:
        self.card_failures.labels(channel).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
