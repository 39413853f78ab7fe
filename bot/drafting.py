"""Summaries and draft replies for agents: the ``Drafter`` port, the context a drafter gets
(``context_of``: the conversation, its open needs and a search for each), and the helpers
drafters share. The embedded default is ``bot.extractive``; an LLM drafter fills the same
port when one is configured."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.conversation import ArticleRef, Kind, Message, Summary, customer_texts
from bot.facts import key_facts
from bot.model import REASON_LABELS, ArticleMatch, EscalationReason, Retrieval
from bot.needs import goal, needs_in, open_needs, without_courtesy
from bot.phrases import HUMAN_REQUEST, NOT_HELPFUL
from bot.signals import frustration
from bot.text import clip

MAX_PASSAGE_CHARS = 900
MIN_SIMILARITY = 0.3  # a match below this is not quoted
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_EMPHASIS = re.compile(r"(?<!\w)(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1(?!\w)")


@dataclass(frozen=True)
class DraftContext:
    """What a drafter may use.

    Attributes:
        customer_texts: The customer's messages, oldest first.
        frustration: The frustration score of each of those messages.
        bot_answers: Titles of the articles the bot already answered with.
        retrieval: The knowledge base's matches for the conversation's latest question.
        reasons: Why the conversation escalated.
        question: The customer's words since the last reply (the open question).
        variant: Asks for a different draft (``regenerate``): the n-th usable article.
        needs: The customer's open needs (``bot.needs``), oldest first.
        goal: The customer's main need, with its specifics.
        lookups: The knowledge base's matches for the goal and each open need (the engine
            searches ``needs_to_look_up``), the goal's first.
        rejected: Titles of the articles whose answers the customer said did not help.
        passed_over: Titles of the articles whose answers the customer passed over by asking
            for a person (``passed_over_answers``).
        overall: The frustration read over the conversation at the latest message (a run of
            mildly negative turns adds up), when the decision read it; None otherwise.
        topics: The sensitive topics read in the conversation (``conversation_topics``).
    """

    customer_texts: tuple[str, ...]
    frustration: tuple[float, ...]
    bot_answers: tuple[str, ...]
    retrieval: Retrieval
    reasons: tuple[EscalationReason, ...] = ()
    variant: int = 0
    question: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    goal: str = ""
    lookups: tuple[tuple[str, Retrieval], ...] = ()
    rejected: tuple[str, ...] = ()
    passed_over: tuple[str, ...] = ()
    overall: float | None = None
    topics: tuple[str, ...] = ()


class Drafter(Protocol):
    """Writes the context summary and the draft reply for an escalation."""

    async def summarise(self, context: DraftContext) -> Summary: ...

    async def draft(self, context: DraftContext) -> str: ...


class RefinedDraft(Protocol):
    """A better summary and draft that arrive after the card was posted (an LLM's)."""

    @property
    def summary(self) -> Summary: ...

    @property
    def draft(self) -> str: ...

    @property
    def warning(self) -> str: ...

    @property
    def by_llm(self) -> bool: ...


@runtime_checkable
class Refiner(Protocol):
    """A drafter that answers at once and brings a better summary and draft later."""

    async def refine(self, context: DraftContext) -> RefinedDraft: ...


def context_of(
    history: Sequence[Message],
    retrieval: Retrieval,
    reasons: Sequence[EscalationReason] = (),
    *,
    variant: int = 0,
    turns: int = 20,
    trend: Sequence[float] = (),
    lookups: Sequence[tuple[str, Retrieval]] = (),
    overall: float | None = None,
    topics: Sequence[str] = (),
) -> DraftContext:
    """What a drafter gets from a conversation's history and the knowledge base's matches
    (``retrieval`` for the latest message, ``lookups`` for the goal and each open need)."""
    customer = customer_texts(history)[-turns:]
    answers = [m.sources[0].title for m in history if m.kind is Kind.ANSWER and m.sources]
    return DraftContext(
        customer_texts=tuple(customer),
        frustration=_frustration_of(customer, trend),
        bot_answers=tuple(dict.fromkeys(answers)),
        retrieval=retrieval,
        reasons=tuple(reasons),
        variant=variant,
        question=open_question(history),
        needs=tuple(n.text for n in open_needs(history)),
        goal=goal(history) if customer else "",
        lookups=tuple(lookups),
        rejected=rejected_answers(history),
        passed_over=passed_over_answers(history),
        overall=overall,
        topics=tuple(topics),
    )


def rejected_answers(history: Sequence[Message]) -> tuple[str, ...]:
    """Titles of the bot's answers that the customer's next message said did not help."""
    return _answers_followed_by(history, lambda after: bool(NOT_HELPFUL.search(after.text)))


def passed_over_answers(history: Sequence[Message]) -> tuple[str, ...]:
    """Titles of the bot's answers after which the customer asked for a person and nothing
    new: the answer may be right, but it was not enough (the draft neither repeats it nor
    offers another article instead)."""
    return _answers_followed_by(history, _passes_over)


def _answers_followed_by(
    history: Sequence[Message], follows: Callable[[Message], bool]
) -> tuple[str, ...]:
    public = [m for m in without_courtesy(history) if not m.internal]
    return tuple(
        dict.fromkeys(
            answer.sources[0].title
            for answer, after in zip(public, public[1:], strict=False)
            if answer.kind is Kind.ANSWER
            and answer.sources
            and after.kind is Kind.CUSTOMER
            and follows(after)
        )
    )


def _passes_over(message: Message) -> bool:
    """A bare request for a person: "can I talk to a real person please"."""
    return bool(HUMAN_REQUEST.search(message.text)) and not needs_in(message)


def _frustration_of(customer: Sequence[str], trend: Sequence[float]) -> tuple[float, ...]:
    """Each customer turn's frustration: the signal reader's for the turns it read (the latest
    ones), the lexical estimate for older turns."""
    known = list(trend)[-len(customer) :] if customer else []
    older = customer[: len(customer) - len(known)]
    return tuple(frustration(t) for t in older) + tuple(known)


def reason_codes(codes: Sequence[str]) -> tuple[EscalationReason, ...]:
    """Stored reason codes back as reasons (unknown codes are skipped)."""
    known = EscalationReason._value2member_map_
    return tuple(EscalationReason(c) for c in codes if c in known)


def articles_of(retrieval: Retrieval, limit: int = 3) -> tuple[ArticleRef, ...]:
    """The top matches as article references for a card."""
    return tuple(
        ArticleRef(
            article_id=m.article_id,
            title=m.title,
            url=m.url,
            passage=clip(passage_text(m), MAX_PASSAGE_CHARS),
            confidence=round(retrieval.confidence if i == 0 else 0.0, 3),
            tags=m.tags,
        )
        for i, m in enumerate(retrieval.matches[:limit])
    )


def open_question(history: Sequence[Message]) -> tuple[str, ...]:
    """The customer's messages since the last reply from the bot or an agent."""
    question: list[str] = []
    for message in history:
        if message.kind is Kind.CUSTOMER:
            question.append(message.text)
        elif message.kind in (Kind.ANSWER, Kind.AGENT_MESSAGE):
            question = []
    return tuple(question)


LEAD_CHARS = 600
"""An article's opening section up to this long is read before a later section that matched:
"Already dispatched" alone would tell a customer whose order has not shipped that it cannot be
cancelled."""


def passage_text(match: ArticleMatch) -> str:
    """The article's best passage without the heading line that was indexed with it; after the
    article's short opening section when the best one is a later section."""
    if not match.passages:
        return match.title
    best = match.passages[0]
    first, _, rest = best.partition("\n")
    heading = first.strip().startswith(match.title) or " › " in first
    body = rest.strip() if heading and rest.strip() else best
    lead = match.lead.partition("\n")[2].strip() if match.lead else ""
    if " › " in first and lead and match.lead != best and len(lead) <= LEAD_CHARS:
        section = first.rsplit(" › ", 1)[-1].strip()
        return plain_text(f"{lead}\n\n{section}: {body}")
    return plain_text(body)


def plain_text(markdown: str) -> str:
    """Markdown emphasis, code marks and links as plain text, for chat bubbles and drafts."""
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", markdown)
    text = re.sub(r"[ \t]+\n", "\n", text)  # markdown hard breaks
    return _EMPHASIS.sub(r"\2", text).replace("`", "")


def sentiment_of(scores: Sequence[float], overall: float | None = None) -> tuple[str, str]:
    """A sentiment label for the latest message, read over the conversation when ``overall``
    is given (a run of mildly negative turns reads negative), and the trend of the turns."""
    if not scores:
        return "neutral", "steady"
    latest = scores[-1]
    worst = max(latest, overall) if overall is not None else latest
    label = "negative" if worst >= 0.5 else "slightly negative" if worst > 0.15 else "neutral"
    if len(scores) < 2:
        return label, "steady"
    earlier = sum(scores[:-1]) / (len(scores) - 1)
    trend = (
        "rising" if latest > earlier + 0.1 else "falling" if latest < earlier - 0.1 else "steady"
    )
    return label, trend


def goal_of(question: Sequence[str], everything: Sequence[str] = ()) -> str:
    """The customer's goal in one sentence, in their words: a question still open, else an
    open sentence that names a fact (an order, an email), else their latest real question,
    else their most substantial open sentence."""

    def sentences(texts: Sequence[str]) -> list[str]:
        return [s.strip() for t in texts for s in re.split(r"(?<=[.?!])\s+", t) if s.strip()]

    def questions(texts: Sequence[str]) -> list[str]:
        return [s for s in sentences(texts) if s.endswith("?") and len(s.split()) >= 3]

    open_sentences = sentences(question)
    with_facts = [s for s in open_sentences if key_facts([s], mask=False)]
    substantial = [s for s in open_sentences if len(s.split()) >= 4]
    candidates = (
        questions(question)[:1]
        or with_facts[:1]
        or questions(everything)[-1:]
        or substantial[:1]
        or open_sentences[:1]
        or ["(no message yet)"]
    )
    return clip(candidates[0], 200)


def goal_text(context: DraftContext) -> str:
    """The customer's goal: the context's, else read from its open question."""
    return context.goal or goal_of(context.question, context.customer_texts)


def lookups_of(context: DraftContext) -> tuple[tuple[str, Retrieval], ...]:
    """The goal's and each open need's matches, the goal's first; without lookups (the engine
    searched only the latest message) the goal with that search."""
    return context.lookups or ((goal_text(context), context.retrieval),)


def usable(retrieval: Retrieval, rejected: Sequence[str] = ()) -> list[ArticleMatch]:
    """Matches confident enough to quote, without the articles the customer rejected."""
    return [
        m
        for m in retrieval.matches
        if m.passages and m.similarity >= MIN_SIMILARITY and m.title not in rejected
    ]


def articles_for(context: DraftContext, limit: int = 3) -> tuple[ArticleRef, ...]:
    """The card's articles: the top match for the goal, then for each open need, then the
    runners-up, in turn; an article once."""
    lists = [articles_of(retrieval, limit) for _, retrieval in lookups_of(context)]
    merged: dict[str, ArticleRef] = {}
    for rank in range(limit):
        for refs in lists:
            if rank < len(refs):
                merged.setdefault(refs[rank].article_id, refs[rank])
    return tuple(merged.values())[:limit]


def reason_labels(reasons: Sequence[str]) -> list[str]:
    """Readable labels for stored reason codes."""
    labels = []
    for reason in reasons:
        try:
            labels.append(REASON_LABELS[EscalationReason(reason)])
        except ValueError:
            labels.append(reason)
    return labels
