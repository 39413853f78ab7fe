"""The metrics port: what the engine counts. ``integrations.web.metrics`` exports it to
Prometheus; ``NullMetrics`` counts nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Metrics(Protocol):
    def conversation_started(self, channel: str) -> None: ...
    def answered(self) -> None: ...
    def escalated(self, reasons: Sequence[str]) -> None: ...
    def agent_action(
        self, action: str, channel: str, seconds_since_escalation: float | None
    ) -> None: ...
    def card_failed(self, channel: str) -> None: ...
    def wait_closed(self) -> None: ...
    def reannounced(self) -> None: ...
    def courteous(self, said: str) -> None: ...


class NullMetrics:
    def conversation_started(self, channel: str) -> None:
        pass

    def answered(self) -> None:
        pass

    def escalated(self, reasons: Sequence[str]) -> None:
        pass

    def agent_action(
        self, action: str, channel: str, seconds_since_escalation: float | None
    ) -> None:
        pass

    def card_failed(self, channel: str) -> None:
        pass

    def wait_closed(self) -> None:
        pass

    def reannounced(self) -> None:
        pass

    def courteous(self, said: str) -> None:
        pass
