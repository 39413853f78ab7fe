"""The model's other helpers, each switchable in the ``llm`` settings and each falling back
to what Tandem does without a model:

- ``suggest``: live-assist suggestions for an agent during a take-over (``assist``);
- ``propose_article``: a knowledge article from an agent's edited reply (``propose_articles``);
- ``generative_answer``: a customer answer phrased from the passage when the bot is already
  confident (``answer_mode=generative``), with the citation and the grounding check, else the
  passage itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.drafting import DraftContext, passage_text
from bot.model import ArticleMatch
from integrations.llm.drafter import LLMDrafter, ground
from integrations.llm.grounding import Grounding, check, promises
from integrations.llm.guard import LLMFailure
from integrations.llm.privacy import Masker
from integrations.llm.prompts import AnswerOut, ArticleOut, AssistOut, leaks_rules, messages_for


@dataclass(frozen=True)
class ProposedArticle:
    """A knowledge article for an admin to accept."""

    title: str
    question: str
    answer: str


async def suggest(drafter: LLMDrafter, context: DraftContext) -> tuple[str, ...]:
    """Up to three grounded suggestions for the agent; none when off or on any failure.

    A suggestion with an unverified fact is dropped."""
    if not drafter.settings.assist:
        return ()
    masker = drafter.masker()
    try:
        out = await drafter.client.structured(
            AssistOut, messages_for("assist", drafter.data_of(context, masker))
        )
    except LLMFailure as failure:
        drafter.client.guard.metrics.llm_fallback(*drafter.client.labels, "assist", failure.reason)
        return ()
    shown = [masker.unmask(s.strip()) for s in out.suggestions if s.strip()]
    return tuple(s for s in shown if ground(s, context, masker).ok)


async def propose_article(
    drafter: LLMDrafter, question: str, agent_reply: str
) -> ProposedArticle | None:
    """A proposed article (title, clean question, answer) from an agent's reply, with no
    personal data: masked values are dropped, not restored. None when off, on a failure, or
    when the answer states facts the agent's reply does not."""
    if not drafter.settings.propose_articles:
        return None
    masker = Masker(enabled=True, patterns=drafter.settings.mask_patterns)
    data = {"customer_question": masker.mask(question), "agent_reply": masker.mask(agent_reply)}
    try:
        out = await drafter.client.structured(ArticleOut, messages_for("article", data))
    except LLMFailure as failure:
        drafter.client.guard.metrics.llm_fallback(*drafter.client.labels, "article", failure.reason)
        return None
    text = f"{out.title}\n{out.question}\n{out.answer}"
    if masker.masked_values and any(p in text for p in ("[EMAIL_", "[PHONE_", "[PRIVATE_")):
        return None
    if not check(text, [agent_reply], [question]).ok or leaks_rules(text):
        return None
    return ProposedArticle(out.title.strip(), out.question.strip(), out.answer.strip())


async def generative_answer(drafter: LLMDrafter, question: str, match: ArticleMatch) -> str:
    """The answer to send when the bot already decided to answer with ``match``: phrased by
    the model from the passage when ``answer_mode`` is ``generative`` and it passes the
    grounding check, else the passage itself. The citation is the article in both cases (the
    engine sends it as the message's source)."""
    passage = passage_text(match)
    if drafter.settings.answer_mode != "generative":
        return passage
    masker = drafter.masker()
    data = {
        "customer_question": masker.mask(question),
        "passage": {"title": match.title, "url": match.url, "text": masker.mask(passage)},
    }
    try:
        out = await drafter.client.structured(AnswerOut, messages_for("answer", data))
    except LLMFailure as failure:
        drafter.client.guard.metrics.llm_fallback(*drafter.client.labels, "answer", failure.reason)
        return passage
    answer = masker.unmask(out.answer.strip())
    stated = [passage, match.title, match.url or "", *match.passages]
    grounding = Grounding(
        (*check(answer, stated, [question]).unverified, *masker.unknown_placeholders(answer))
    )
    if not grounding.ok or promises(answer, [passage, *match.passages]) or leaks_rules(answer):
        drafter.client.guard.metrics.llm_fallback(*drafter.client.labels, "answer", "unverified")
        return passage
    return answer


class AssistingDrafter(LLMDrafter):
    """The LLM drafter with the model's other helpers: the engine's ``Assistant`` port."""

    async def phrase(self, question: str, match: ArticleMatch) -> str:
        return await generative_answer(self, question, match)

    async def suggest(self, context: DraftContext) -> tuple[str, ...]:
        return await suggest(self, context)

    async def propose(self, question: str, agent_reply: str) -> ProposedArticle | None:
        return await propose_article(self, question, agent_reply)
