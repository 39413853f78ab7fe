"""Calls to the provider that are never in the way: one deadline per call (``timeout_s``),
a 429's ``Retry-After`` honoured, every failure classified and counted, and a circuit breaker
that skips the provider for a while after failures in a row."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
RETRY_MARGIN_S = 0.5


class LLMFailure(Exception):
    """A call that produced nothing usable. ``reason`` is a metrics label: ``timeout``,
    ``rate_limited``, ``server_error``, ``malformed``, ``circuit_open`` or ``error``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class LLMMetrics(Protocol):
    """What the LLM parts count (``integrations.metrics.PrometheusMetrics`` implements it)."""

    def llm_call(
        self, provider: str, model: str, outcome: str, seconds: float, tokens: dict[str, int]
    ) -> None: ...

    def llm_fallback(self, provider: str, model: str, purpose: str, reason: str) -> None: ...


class NullLLMMetrics:
    def llm_call(
        self, provider: str, model: str, outcome: str, seconds: float, tokens: dict[str, int]
    ) -> None:
        pass

    def llm_fallback(self, provider: str, model: str, purpose: str, reason: str) -> None:
        pass


class CircuitBreaker:
    """Open after ``failures`` failures in a row (or a long ``Retry-After``): calls are
    skipped until ``cooldown_s`` has passed, then one trial call is let through."""

    def __init__(
        self, *, failures: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = failures
        self.cooldown_s = cooldown_s
        self.clock = clock
        self.failures = 0
        self.open_until = 0.0

    def allow(self) -> bool:
        return self.clock() >= self.open_until

    def succeeded(self) -> None:
        self.failures = 0

    def failed(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.open_for(self.cooldown_s)
            self.failures = 0

    def open_for(self, seconds: float) -> None:
        self.open_until = max(self.open_until, self.clock() + seconds)


def status_of(error: BaseException) -> int | None:
    """The HTTP status of an SDK error (openai, anthropic, ollama, httpx), if it has one."""
    for candidate in (error, getattr(error, "response", None)):
        status = getattr(candidate, "status_code", None)
        if isinstance(status, int):
            return status
    return None


def retry_after(error: BaseException, now: float | None = None) -> float | None:
    """Seconds from a 429's ``Retry-After`` (or ``retry-after-ms``) header, if any."""
    headers: Any = getattr(getattr(error, "response", None), "headers", None) or {}
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return max(0.0, float(ms) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value).timestamp()
            return max(0.0, when - (time.time() if now is None else now))
    except (TypeError, ValueError):
        return None


def classify(error: BaseException) -> str:
    """The metrics label for a failed call."""
    if isinstance(error, LLMFailure):
        return error.reason
    if isinstance(error, TimeoutError) or "Timeout" in type(error).__name__:
        return "timeout"
    status = status_of(error)
    if status == 429:
        return "rate_limited"
    if status is not None and status >= 500:
        return "server_error"
    if isinstance(error, ValueError) or "Parser" in type(error).__name__:
        return "malformed"  # pydantic's ValidationError, JSON errors, OutputParserException
    return "error"


class Guard:
    """Runs provider calls under the deadline and the breaker, and counts them.

    Args:
        provider: The provider label for metrics.
        model: The model label for metrics.
        timeout_s: The deadline for one call, retries included.
        breaker: Shared by every call to this provider.
        metrics: Counters.
        sleep: Waits (tests pass their own).
    """

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        timeout_s: float,
        breaker: CircuitBreaker,
        metrics: LLMMetrics | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.provider = provider
        self.model = model
        self.timeout_s = timeout_s
        self.breaker = breaker
        self.metrics = metrics or NullLLMMetrics()
        self.sleep = sleep

    async def call(self, attempt: Callable[[], Awaitable[tuple[T, dict[str, int]]]]) -> T:
        """Run ``attempt`` (which returns its value and token usage) within the deadline.

        A 429 whose ``Retry-After`` still fits in the deadline is retried once after waiting;
        a longer one opens the breaker for that long.

        Raises:
            LLMFailure: With the reason, after counting it.
        """
        if not self.breaker.allow():
            raise LLMFailure("circuit_open")
        started = time.monotonic()
        deadline = started + self.timeout_s
        for retry in (True, False):
            try:
                remaining = deadline - time.monotonic()
                value, tokens = await asyncio.wait_for(attempt(), max(remaining, 0.001))
            except Exception as error:
                reason = classify(error)
                wait = retry_after(error) if reason == "rate_limited" else None
                left = deadline - time.monotonic() - RETRY_MARGIN_S
                if retry and wait is not None and wait <= left:
                    self.metrics.llm_call(self.provider, self.model, reason, 0.0, {})
                    await self.sleep(wait)
                    continue
                if wait is not None:
                    self.breaker.open_for(wait)
                self.breaker.failed()
                seconds = time.monotonic() - started
                self.metrics.llm_call(self.provider, self.model, reason, seconds, {})
                raise LLMFailure(reason, str(error)[:200]) from error
            self.breaker.succeeded()
            seconds = time.monotonic() - started
            self.metrics.llm_call(self.provider, self.model, "ok", seconds, tokens)
            return value
        raise LLMFailure("rate_limited")  # pragma: no cover - the loop returns or raises
