"""The chat model behind the guard: structured output validated against a pydantic schema,
plain text, token usage for metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from config import LLMSettings
from integrations.llm.guard import CircuitBreaker, Guard, LLMFailure, LLMMetrics
from integrations.llm.models import build_chat_model, close_chat_model, model_name

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

M = TypeVar("M", bound=BaseModel)


def usage_of(message: Any) -> dict[str, int]:
    """Input and output tokens from a langchain message's ``usage_metadata``."""
    usage = getattr(message, "usage_metadata", None) or {}
    return {
        kind: int(usage.get(f"{kind}_tokens") or 0)
        for kind in ("input", "output")
        if usage.get(f"{kind}_tokens")
    }


class LLMClient:
    """One provider's model, called under a ``Guard``.

    Args:
        model: The langchain chat model.
        settings: The ``llm`` settings (method for structured output, limits, breaker).
        metrics: Counters for ``/metrics``.
        guard: Overrides the guard built from the settings (tests).
    """

    def __init__(
        self,
        *,
        model: BaseChatModel,
        settings: LLMSettings,
        metrics: LLMMetrics | None = None,
        guard: Guard | None = None,
    ) -> None:
        self.model = model
        self.settings = settings
        self.guard = guard or Guard(
            provider=settings.provider,
            model=settings.model or "default",
            timeout_s=settings.timeout_s,
            breaker=CircuitBreaker(
                failures=settings.breaker_failures, cooldown_s=settings.breaker_cooldown_s
            ),
            metrics=metrics,
        )
        self._structured: dict[type[BaseModel], Any] = {}

    @classmethod
    def from_settings(
        cls, settings: LLMSettings, *, metrics: LLMMetrics | None = None
    ) -> LLMClient:
        client = cls(model=build_chat_model(settings), settings=settings, metrics=metrics)
        client.guard.model = model_name(settings)
        return client

    async def aclose(self) -> None:
        """Close the model's HTTP connections."""
        await close_chat_model(self.model)

    @property
    def labels(self) -> tuple[str, str]:
        """The provider and model labels for metrics."""
        return self.guard.provider, self.guard.model

    async def structured(self, schema: type[M], messages: list[BaseMessage]) -> M:
        """The model's answer as a validated ``schema`` instance.

        Raises:
            LLMFailure: ``malformed`` when the answer does not validate, or the call's failure.
        """
        if schema not in self._structured:
            self._structured[schema] = self.model.with_structured_output(
                schema, method=self.settings.structured_method, include_raw=True
            )
        runnable = self._structured[schema]

        async def attempt() -> tuple[M, dict[str, int]]:
            result = await runnable.ainvoke(messages)
            parsed = result.get("parsed")
            if result.get("parsing_error") is not None or not isinstance(parsed, schema):
                raise LLMFailure("malformed", repr(result.get("parsing_error"))[:200])
            return parsed, usage_of(result.get("raw"))

        return await self.guard.call(attempt)

    async def text(self, messages: list[BaseMessage]) -> str:
        """The model's plain-text answer (streamed when ``streaming`` is set)."""

        async def attempt() -> tuple[str, dict[str, int]]:
            reply = await self.model.ainvoke(messages)
            content = reply.text if hasattr(reply, "text") else str(reply.content)
            if not isinstance(content, str) or not content.strip():
                raise LLMFailure("malformed", "empty answer")
            return content, usage_of(reply)

        return await self.guard.call(attempt)
