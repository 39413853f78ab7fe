"""Prometheus metrics for ``/metrics``: the engine's ``Metrics`` port on its own registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.learning import LiveEstimate

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

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
        self.courtesy = Counter(
            "tandem_courtesy_replies",
            "Greetings, thanks and acknowledgements the bot answered with a line of its own",
            ["said"],
            registry=self.registry,
        )
        self.waits_closed = Counter(
            "tandem_waits_closed_by_customer",
            "Escalations the waiting customer closed (no longer needed help)",
            registry=self.registry,
        )
        self.reannouncements = Counter(
            "tandem_escalations_reannounced",
            "Re-announcements of escalations nobody picked up in time",
            registry=self.registry,
        )
        self.live_precision = Gauge(
            "tandem_live_precision",
            "Share of tagged escalations at or above the threshold whose top article was right",
            registry=self.registry,
        )
        self.live_samples = Gauge(
            "tandem_live_precision_samples",
            "Tagged escalations at or above the threshold",
            registry=self.registry,
        )
        self.live_labelled = Gauge(
            "tandem_live_outcomes",
            "Labelled live decisions (tags, rejections)",
            registry=self.registry,
        )
        self.live_rejected = Gauge(
            "tandem_live_rejected_answers",
            "Bot answers known to be wrong (rejected by the customer, corrected by an agent)",
            registry=self.registry,
        )
        self.live_answers = Gauge(
            "tandem_live_answers",
            "Bot answers over the period the live outcomes cover",
            registry=self.registry,
        )
        self.live_reviewed = Gauge(
            "tandem_live_reviewed_answers",
            "Bot answers agents reviewed, drawn at random (last two weeks)",
            registry=self.registry,
        )
        self.live_reviewed_precision = Gauge(
            "tandem_live_reviewed_precision",
            "Share of those reviewed answers that were right: the answers' precision, unbiased",
            registry=self.registry,
        )
        self.live_rejection_rate = Gauge(
            "tandem_live_answer_rejection_rate",
            "Share of those answers known to be wrong: a lower bound of the error rate",
            registry=self.registry,
        )

        self.answer_threshold = Gauge(
            "tandem_answer_threshold",
            "The confidence the bot answers at now",
            registry=self.registry,
        )
        self.learned_confidence = Gauge(
            "tandem_learned_confidence",
            "1 when the confidence learned across small deployments decides (and the answer "
            "threshold is on its scale), 0 when the calibrated one does",
            registry=self.registry,
        )
        self.traffic_share = Gauge(
            "tandem_traffic_out_of_scope_share",
            "Out-of-scope share the latest questions decided on confidence imply, on this "
            "replica (NaN: too few)",
            registry=self.registry,
        )
        self.traffic_questions = Gauge(
            "tandem_traffic_window_questions",
            "Questions decided on confidence in that window, on this replica",
            registry=self.registry,
        )

        llm = ["provider", "model"]
        self.llm_calls = Counter(
            "tandem_llm_calls", "LLM calls by outcome", [*llm, "outcome"], registry=self.registry
        )
        self.llm_failures = Counter(
            "tandem_llm_failures", "Failed LLM calls", [*llm, "reason"], registry=self.registry
        )
        self.llm_fallbacks = Counter(
            "tandem_llm_fallbacks",
            "LLM results replaced by the extractive fallback",
            [*llm, "purpose", "reason"],
            registry=self.registry,
        )
        self.llm_latency = Histogram(
            "tandem_llm_latency_seconds",
            "LLM call latency",
            llm,
            buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60),
            registry=self.registry,
        )
        self.llm_tokens = Counter(
            "tandem_llm_tokens", "LLM tokens", [*llm, "kind"], registry=self.registry
        )

    def live(self, estimate: LiveEstimate) -> None:
        """The live precision estimate and its sample size (set by each live refresh)."""
        self.live_precision.set(
            estimate.precision if estimate.precision is not None else float("nan")
        )
        self.live_samples.set(estimate.samples)
        self.live_labelled.set(estimate.labelled)
        self.live_rejected.set(estimate.rejected)
        self.live_answers.set(estimate.answers)
        rate = estimate.rejection_rate
        self.live_rejection_rate.set(rate if rate is not None else float("nan"))
        self.live_reviewed.set(estimate.reviewed)
        reviewed = estimate.reviewed_precision
        self.live_reviewed_precision.set(reviewed if reviewed is not None else float("nan"))

    def watch_knowledge_base(self, knowledge_base: KnowledgeBase) -> None:
        """Read the threshold in force and the traffic's out-of-scope share at each scrape."""
        self.answer_threshold.set_function(knowledge_base.threshold_in_force)
        self.learned_confidence.set_function(lambda: float(knowledge_base.learned_confidence))

        def share() -> float:
            found = knowledge_base.traffic_reading.out_of_scope_share
            return float("nan") if found is None else found

        self.traffic_share.set_function(share)
        self.traffic_questions.set_function(lambda: knowledge_base.traffic_reading.questions)

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

    def llm_call(
        self, provider: str, model: str, outcome: str, seconds: float, tokens: dict[str, int]
    ) -> None:
        self.llm_calls.labels(provider, model, outcome).inc()
        if outcome != "ok":
            self.llm_failures.labels(provider, model, outcome).inc()
        if seconds:
            self.llm_latency.labels(provider, model).observe(seconds)
        for kind, count in tokens.items():
            self.llm_tokens.labels(provider, model, kind).inc(count)

    def llm_fallback(self, provider: str, model: str, purpose: str, reason: str) -> None:
        self.llm_fallbacks.labels(provider, model, purpose, reason).inc()

    def card_failed(self, channel: str) -> None:
        self.card_failures.labels(channel).inc()

    def wait_closed(self) -> None:
        self.waits_closed.inc()

    def reannounced(self) -> None:
        self.reannouncements.inc()

    def courteous(self, said: str) -> None:
        self.courtesy.labels(said).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
