"""The LLM drafter against a local OpenAI-compatible server: request shape, structured
output, streaming, masking, and every failure falling back to the extractive result."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from bot import wording
from integrations.metrics import PrometheusMetrics
from tests.fakes.openai_api import FakeOpenAI, Raw, Slow, Status, Text
from tests.integrations.llm.helpers import DRAFT, SUMMARY, context, drafter


def sample(metrics: PrometheusMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return value or 0.0


async def test_structured_summary_and_grounded_draft() -> None:
    async with FakeOpenAI() as fake:
        fake.script("SummaryOut", SUMMARY)
        fake.script("DraftOut", DRAFT)
        metrics = PrometheusMetrics()
        refined = await drafter(fake.base_url, metrics).refine(context())
    assert not fake.problems
    assert refined.by_llm and not refined.fallbacks and not refined.warning
    assert refined.summary.intent == "Return a jacket"
    assert "Email j***@mail.example" in refined.summary.key_facts  # cards stay masked
    assert "Tried: Read the returns article" in refined.summary.key_facts
    assert "confirm to jane.doe@mail.example" in refined.draft  # unmasked where quoted
    assert refined.draft.endswith("Sources: Returns policy (https://shop.example/help/returns)")
    request = fake.requests[0]
    assert request["model"] == "gpt-test"
    assert request["tool_choice"]["function"]["name"] in ("SummaryOut", "DraftOut")
    assert fake.headers[0]["Authorization"] == "Bearer sk-test-secret"
    labels = {"provider": "openai", "model": "gpt-test"}
    assert sample(metrics, "tandem_llm_calls_total", **labels, outcome="ok") == 2
    assert sample(metrics, "tandem_llm_tokens_total", **labels, kind="input") == 240


async def test_the_kind_of_sensitive_case_leads_the_llm_summarys_facts() -> None:
    """The model's own facts come after the topics the product read (it may drop them)."""
    async with FakeOpenAI() as fake:
        fake.script("SummaryOut", SUMMARY)
        fake.script("DraftOut", DRAFT)
        asked = replace(context(), topics=("bereavement", "personal_data"))
        refined = await drafter(fake.base_url, PrometheusMetrics()).refine(asked)
    assert refined.by_llm and not refined.fallbacks
    facts = refined.summary.key_facts
    assert facts[:2] == ("Sensitive: bereavement", "Sensitive: personal data")
    assert refined.summary.topics == ("bereavement", "personal_data"), "kept for the queue"
    assert "Email j***@mail.example" in facts
    # The model is told the topics, and its draft opens with the line the customer needs.
    draft_request = next(
        r for r in fake.requests if r["tool_choice"]["function"]["name"] == "DraftOut"
    )
    assert '"sensitive_topics"' in str(draft_request["messages"][-1]["content"])
    assert refined.draft.startswith("I'm so sorry for your loss.\n\nHi! You can return")


async def test_a_draft_for_a_customer_at_risk_opens_with_where_to_get_help() -> None:
    async with FakeOpenAI() as fake:
        fake.script("SummaryOut", SUMMARY)
        fake.script("DraftOut", DRAFT)
        asked = replace(context(), topics=("crisis",))
        refined = await drafter(fake.base_url, PrometheusMetrics()).refine(asked)
    assert refined.draft.startswith(wording.CRISIS)
    assert refined.draft.count(wording.CRISIS) == 1


async def test_personal_data_is_masked_before_it_is_sent() -> None:
    async with FakeOpenAI() as fake:
        fake.script("SummaryOut", SUMMARY)
        fake.script("DraftOut", DRAFT)
        llm = drafter(fake.base_url, mask_patterns=[r"\bA-\d{5}\b"])
        await llm.refine(context())
    sent = fake.sent_text()
    assert "jane.doe@mail.example" not in sent and "7946" not in sent
    assert "A-12345" not in sent
    assert "[EMAIL_1]" in sent and "[PHONE_1]" in sent and "[PRIVATE_1]" in sent


async def test_masking_can_be_turned_off() -> None:
    async with FakeOpenAI() as fake:
        fake.script("SummaryOut", SUMMARY)
        fake.script("DraftOut", DRAFT)
        await drafter(fake.base_url, mask_personal_data=False).refine(context())
    assert "jane.doe@mail.example" in fake.sent_text()


async def test_streaming_structured_output() -> None:
    async with FakeOpenAI() as fake:
        fake.script("SummaryOut", SUMMARY)
        fake.script("DraftOut", DRAFT)
        refined = await drafter(fake.base_url, streaming=True).refine(context())
    assert all(r["stream"] for r in fake.requests)
    assert refined.by_llm and not refined.fallbacks
    assert "within 30 days" in refined.draft


async def test_streaming_text() -> None:
    async with FakeOpenAI() as fake:
        fake.script("text", Text("Hello there, this came in chunks."))
        llm = drafter(fake.base_url, streaming=True)
        from langchain_core.messages import HumanMessage

        text = await llm.client.text([HumanMessage("hi")])
    assert text == "Hello there, this came in chunks."


async def test_rate_limit_waits_for_retry_after_then_succeeds() -> None:
    async with FakeOpenAI() as fake:
        fake.script("DraftOut", Status(429, {"Retry-After": "1"}), DRAFT)
        started = time.monotonic()
        text, warning, failure = await drafter(fake.base_url).llm_draft(context())
    assert failure is None and "within 30 days" in text
    assert len(fake.requests) == 2 and time.monotonic() - started >= 1


async def test_long_retry_after_falls_back_and_skips_the_provider() -> None:
    async with FakeOpenAI() as fake:
        fake.script("DraftOut", Status(429, {"Retry-After": "120"}))
        metrics = PrometheusMetrics()
        llm = drafter(fake.base_url, metrics)
        text, _, failure = await llm.llm_draft(context())
        again, _, second = await llm.llm_draft(context())
    assert failure == "rate_limited" and second == "circuit_open"
    assert text == again == await llm.fallback.draft(context())
    assert len(fake.requests) == 1
    labels = {"provider": "openai", "model": "gpt-test", "purpose": "draft"}
    assert sample(metrics, "tandem_llm_fallbacks_total", **labels, reason="rate_limited") == 1


async def test_server_error_and_malformed_output_fall_back() -> None:
    async with FakeOpenAI() as fake:
        fake.script("SummaryOut", Status(500))
        fake.script("DraftOut", Raw('{"reply": "Hi", "covered": tr'))
        llm = drafter(fake.base_url)
        refined = await llm.refine(context())
    assert not refined.by_llm
    assert set(refined.fallbacks) == {"server_error", "malformed"}
    assert refined.summary == await llm.fallback.summarise(context())
    assert refined.draft == await llm.fallback.draft(context())


async def test_invalid_schema_falls_back() -> None:
    async with FakeOpenAI() as fake:
        fake.script("SummaryOut", {**SUMMARY, "sentiment": "furious"})
        summary, failure = await drafter(fake.base_url).llm_summary(context())
    assert failure == "malformed" and summary.intent == "Returns policy"


async def test_a_reply_past_the_timeout_falls_back_in_time() -> None:
    async with FakeOpenAI() as fake:
        fake.script("DraftOut", Slow(3, DRAFT))
        started = time.monotonic()
        _, _, failure = await drafter(fake.base_url, timeout_s=0.5).llm_draft(context())
    assert failure == "timeout" and time.monotonic() - started < 2


async def test_breaker_opens_after_failures_in_a_row() -> None:
    async with FakeOpenAI() as fake:
        fake.script("DraftOut", Status(503))
        llm = drafter(fake.base_url, breaker_failures=2, breaker_cooldown_s=60)
        reasons = [(await llm.llm_draft(context()))[2] for _ in range(4)]
    assert reasons == ["server_error", "server_error", "circuit_open", "circuit_open"]
    assert len(fake.requests) == 2


async def test_the_port_answers_at_once_with_the_extractive_result() -> None:
    async with FakeOpenAI() as fake:
        llm = drafter(fake.base_url)
        assert await llm.draft(context()) == await llm.fallback.draft(context())
        assert await llm.summarise(context()) == await llm.fallback.summarise(context())
    assert fake.requests == []


async def test_refine_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    async with FakeOpenAI() as fake:
        fake.script("SummaryOut", SUMMARY)
        fake.script("DraftOut", DRAFT)
        llm = drafter(fake.base_url)

        def broken(*_: object) -> str:
            raise RuntimeError("a bug after the call")

        monkeypatch.setattr("integrations.llm.drafter.compose", broken)
        refined = await llm.refine(context())
    assert refined.fallbacks == ("error",) and refined.draft == await llm.fallback.draft(context())
