"""Contexts, settings and drafters for the LLM tests."""

from __future__ import annotations

from typing import Any

from bot.drafting import DraftContext
from bot.model import ArticleMatch, EscalationReason, Retrieval
from config import LLMSettings
from integrations.llm.client import LLMClient
from integrations.llm.drafter import LLMDrafter
from integrations.metrics import PrometheusMetrics

RETURNS = ArticleMatch(
    article_id="returns",
    title="Returns policy",
    url="https://shop.example/help/returns",
    source="returns.md",
    similarity=0.8,
    passages=(
        "You can return an item within 30 days of delivery. Refunds reach your card within "
        "5-7 business days. Return shipping costs $4.99 unless the item is faulty.",
    ),
)
SHIPPING = ArticleMatch(
    article_id="shipping",
    title="Shipping times",
    url="https://shop.example/help/shipping",
    source="shipping.md",
    similarity=0.5,
    passages=("Standard delivery takes 3 to 5 business days.",),
)

SUMMARY = {
    "intent": "Return a jacket",
    "goal": "Return the jacket from order A-12345 and get the money back",
    "sentiment": "slightly negative",
    "key_facts": ["Order A-12345", "Email [EMAIL_1]"],
    "tried": ["Read the returns article"],
}
DRAFT = {
    "reply": "Hi! You can return the jacket within 30 days of delivery; the refund reaches "
    "your card within 5-7 business days. We'll confirm to [EMAIL_1].",
    "cited_article_ids": ["returns"],
    "covered": True,
}


def context(*texts: str, matches: tuple[ArticleMatch, ...] = (RETURNS, SHIPPING)) -> DraftContext:
    texts = texts or (
        "Hi, I want to return the jacket from order A-12345. Write me at jane.doe@mail.example "
        "or call +44 20 7946 0958.",
    )
    retrieval = Retrieval(texts[-1], matches, 0.4, 0.6, 0.2)
    return DraftContext(
        customer_texts=texts,
        frustration=tuple(0.2 for _ in texts),
        bot_answers=(),
        retrieval=retrieval,
        reasons=(EscalationReason.LOW_CONFIDENCE,),
        question=texts[-1:],
    )


def settings(**values: Any) -> LLMSettings:
    base: dict[str, Any] = {
        "provider": "openai",
        "model": "gpt-test",
        "api_key": "sk-test-secret",
        "timeout_s": 3,
    }
    return LLMSettings(**(base | values))


def drafter(base_url: str, metrics: PrometheusMetrics | None = None, **values: Any) -> LLMDrafter:
    llm = settings(base_url=base_url, **values)
    client = LLMClient.from_settings(llm, metrics=metrics)
    made = LLMDrafter(client=client, settings=llm)
    OPENED.append(made)
    return made


OPENED: list[LLMDrafter] = []  # closed after each test by conftest
