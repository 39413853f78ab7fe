"""How much of a question an article's own words speak to (``knowledge.coverage``), on texts
written for these tests, and the knowledge base that checks it where question variants are few."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.policy import MAX_UNCOVERED
from config import KnowledgeSettings
from knowledge.base import KnowledgeBase
from knowledge.coverage import ArticleWords, asking_sentences, content_words
from knowledge.embeddings.minilm_onnx import MiniLMOnnxEmbeddings

ARTICLES = {
    "turmeric-dose": [
        "How should I take turmeric capsules?",
        "What is the daily dose of turmeric?",
        "Take two turmeric capsules a day with food.",
    ],
    "returns": ["Can I send an order back?", "Unopened items can be returned within 30 days."],
    "delivery": ["How long does delivery take?", "Orders arrive in 2 to 4 working days."],
}


def test_content_words_drop_small_words_and_stem_plurals() -> None:
    assert content_words("What are the side effects of the tablets?") == [
        "side",
        "effect",
        "tablet",
    ]
    assert content_words("Is order 40213 here?") == ["order"]


def test_a_question_the_article_speaks_to_misses_nothing() -> None:
    words = ArticleWords(ARTICLES)
    assert words.missing("how many turmeric capsules a day", "turmeric-dose") == 0.0


def test_a_story_before_the_question_is_not_held_against_it() -> None:
    words = ArticleWords(ARTICLES)
    story = "Hi! My sister recommended you and I ordered on Monday. How long does delivery take?"
    assert words.missing(story, "delivery") == 0.0, "the sentence that asks is covered"
    assert asking_sentences(story) == ["How long does delivery take?"]
    assert asking_sentences("turmeric side effects?") == [], "one sentence: the whole message"
    facet = "I read about turmeric side effects on the liver. What do I do?"
    assert words.missing(facet, "turmeric-dose") > MAX_UNCOVERED, "an empty question says nothing"


def test_a_question_on_the_topic_about_something_else_misses_most() -> None:
    words = ArticleWords(ARTICLES)
    facet = words.missing("turmeric side effects on the liver?", "turmeric-dose")
    assert facet > MAX_UNCOVERED, "the article holds 'turmeric', not side effects or the liver"
    assert words.missing("turmeric side effects on the liver?", "no-such-article") == 1.0
    assert words.missing("hi!", "returns") == 0.0, "nothing to miss"


def test_contractions_and_pronouns_are_no_content() -> None:
    assert content_words("I don\u2019t think they've sent it, haven't they?") == ["think", "sent"]
    assert content_words("Their parcel isn't here") == ["parcel"]


def test_a_closing_question_that_says_little_does_not_stand_for_the_message() -> None:
    words = ArticleWords(
        {"turmeric": ["How should I take turmeric?", "Turmeric can help joints; take 2 a day."]}
    )
    message = "I give turmeric to my dog who has liver disease. Can you help?"
    assert words.missing(message, "turmeric") > MAX_UNCOVERED, "'Can you help?' names nothing asked"
    told = "I give turmeric to my dog. How should I take turmeric a day?"
    assert words.missing(told, "turmeric") <= MAX_UNCOVERED, "a sentence that asks something stands"
    short = ArticleWords(ARTICLES)
    story = "I bought a jacket two weeks ago and the sleeves are far too short. Can I send it back?"
    assert short.missing(story, "returns") == 0.0, "a short question that names what it asks"


def _small_faq(path: Path) -> Path:
    rows = [
        {
            "id": article,
            "question": question,
            "answer": answer if i == 0 else "",
            "title": f"{article.replace('-', ' ').title()} (guide)",
        }
        for article, (answer, questions) in {
            "turmeric-dose": (
                "Take two turmeric capsules a day with food.",
                [
                    "How should I take turmeric capsules?",
                    "What is the daily dose of turmeric?",
                    "how many turmeric tablets per day",
                ],
            ),
            "returns": (
                "Unopened items can be returned within 30 days for a refund.",
                ["Can I send an order back?", "how do returns work", "can I return my order"],
            ),
            "delivery": (
                "Orders arrive in 2 to 4 working days.",
                ["How long does delivery take?", "when will my order arrive", "delivery time"],
            ),
            "payment": (
                "We take Visa, Mastercard and PayPal.",
                ["How can I pay?", "which cards do you accept", "payment options"],
            ),
        }.items()
        for i, question in enumerate(questions)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.mark.parametrize(("mode", "checked"), [("few_variants", True), ("off", False)])
def test_a_knowledge_base_with_few_variants_checks_what_its_articles_hold(
    tmp_path: Path, embeddings: MiniLMOnnxEmbeddings, mode: str, checked: bool
) -> None:
    settings = KnowledgeSettings(data_dir=tmp_path / "data", coverage_check=mode)  # type: ignore[arg-type]
    knowledge_base = KnowledgeBase(settings=settings, embeddings=embeddings)
    assert not knowledge_base.ingest([_small_faq(tmp_path / "faq.jsonl")]).failed
    assert knowledge_base.checks_coverage() is checked
    texts = knowledge_base.store.contents().texts
    assert texts["delivery"][0] == "Delivery (guide)", "the title counts as the article's words"
    facet = knowledge_base.search("turmeric side effects on the liver?")
    if checked:
        assert facet.uncovered is not None and facet.uncovered > MAX_UNCOVERED
        assert knowledge_base.search("turmeric capsules per day").uncovered == 0.0
    else:
        assert facet.uncovered is None


def test_the_sample_knowledge_base_has_variants_enough_to_go_unchecked(
    sample_kb: KnowledgeBase,
) -> None:
    assert not sample_kb.checks_coverage(), "a dozen question variants an article"
    assert sample_kb.search("can I get a VAT invoice").uncovered is None
