"""Live-assist suggestions, proposed articles and generative answers: grounded, switchable,
and falling back to what Tandem does without a model."""

from __future__ import annotations

from integrations.llm.assist import generative_answer, propose_article, suggest
from integrations.llm.drafter import passage_text
from tests.fakes.openai_api import FakeOpenAI, Status
from tests.integrations.llm.helpers import RETURNS, context, drafter


async def test_suggestions_drop_unverified_ones() -> None:
    suggestions = {
        "suggestions": [
            "Send the returns link https://shop.example/help/returns",
            "Offer a $50 voucher",
            "Confirm the email [EMAIL_1]",
        ]
    }
    async with FakeOpenAI() as fake:
        fake.script("AssistOut", suggestions)
        found = await suggest(drafter(fake.base_url), context())
        off = await suggest(drafter(fake.base_url, assist=False), context())
    assert found == (
        "Send the returns link https://shop.example/help/returns",
        "Confirm the email jane.doe@mail.example",
    )
    assert off == () and len(fake.requests) == 1


async def test_suggestions_are_empty_on_failure() -> None:
    async with FakeOpenAI() as fake:
        fake.script("AssistOut", Status(500))
        assert await suggest(drafter(fake.base_url), context()) == ()


async def test_proposed_article_has_no_personal_data() -> None:
    article = {
        "title": "Returning a jacket",
        "question": "How do I return a jacket that does not fit?",
        "answer": "Return it within 30 days of delivery using the label in the parcel.",
    }
    question = "My jacket from order A-12345 doesn't fit, I'm jane@mail.example. How to return?"
    reply = "Hi Jane, you can return it within 30 days of delivery using the label in the parcel."
    async with FakeOpenAI() as fake:
        fake.script("ArticleOut", article)
        proposed = await propose_article(drafter(fake.base_url), question, reply)
        leaking = {**article, "answer": "Mail [EMAIL_1] within 30 days."}
        fake.script("ArticleOut", leaking)
        leaked = await propose_article(drafter(fake.base_url), question, reply)
        invented = {**article, "answer": "Return it within 90 days."}
        fake.script("ArticleOut", invented)
        wrong = await propose_article(drafter(fake.base_url), question, reply)
    assert proposed is not None and proposed.title == "Returning a jacket"
    assert "jane@mail.example" not in fake.sent_text()
    assert leaked is None and wrong is None


async def test_generative_answer_is_opt_in_and_grounded() -> None:
    passage = passage_text(RETURNS)
    question = "How long do I have to return something?"
    good = {"answer": "You have 30 days from delivery to return an item."}
    async with FakeOpenAI() as fake:
        assert await generative_answer(drafter(fake.base_url), question, RETURNS) == passage
        assert fake.requests == []  # extractive by default: no call
        fake.script("AnswerOut", good)
        generative = drafter(fake.base_url, answer_mode="generative")
        assert await generative_answer(generative, question, RETURNS) == good["answer"]
        fake.script("AnswerOut", {"answer": "You have 60 days and a free return label."})
        assert await generative_answer(generative, question, RETURNS) == passage
        fake.script("AnswerOut", Status(500))
        assert await generative_answer(generative, question, RETURNS) == passage
