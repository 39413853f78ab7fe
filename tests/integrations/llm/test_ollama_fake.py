"""The LLM drafter against a local Ollama-shaped server (``/api/chat``, streamed NDJSON)."""

from __future__ import annotations

from integrations.llm.client import LLMClient
from integrations.llm.drafter import LLMDrafter
from tests.fakes.openai_api import FakeOllama, Status
from tests.integrations.llm.helpers import DRAFT, OPENED, SUMMARY, context, settings


def ollama(base_url: str) -> LLMDrafter:
    llm = settings(provider="ollama", model="llama-test", api_key=None, base_url=base_url)
    made = LLMDrafter(client=LLMClient.from_settings(llm), settings=llm)
    OPENED.append(made)
    return made


async def test_structured_output_over_ollama() -> None:
    async with FakeOllama() as fake:
        fake.script("SummaryOut", SUMMARY)
        fake.script("DraftOut", DRAFT)
        refined = await ollama(fake.base_url).refine(context())
    assert not fake.problems and refined.by_llm and not refined.fallbacks
    assert refined.summary.goal.startswith("Return the jacket")
    assert "within 30 days" in refined.draft
    request = fake.requests[0]
    assert request["model"] == "llama-test" and request["tools"]
    assert request["options"]["num_predict"] == 700
    assert "jane.doe@mail.example" not in fake.sent_text()


async def test_ollama_errors_fall_back() -> None:
    async with FakeOllama() as fake:
        fake.script("DraftOut", Status(500))
        _, _, failure = await ollama(fake.base_url).llm_draft(context())
    assert failure == "server_error"
