"""Domain types shared by the core and its adapters. No platform or vector-store types here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal


@dataclass(frozen=True)
class ArticleMatch:
    """A knowledge article that matched a question, with the passages that support it.

    Attributes:
        article_id: The article's id in the knowledge base.
        title: Its title, shown as the citation.
        url: A public link, if the article has one.
        source: The file or URL it was ingested from.
        similarity: Cosine similarity of the best matching chunk.
        passages: The article's answer passages, best first.
        tags: The article's labels (used to route escalations).
        lead: The article's opening section (under its title, before any subheading), when it
            is one passage; a later section that matched is read after it (``passage_text``).
    """

    article_id: str
    title: str
    url: str | None
    source: str
    similarity: float
    passages: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    lead: str | None = None


@dataclass(frozen=True)
class Retrieval:
    """What the knowledge base found for one question.

    Attributes:
        query: The question as searched.
        matches: Articles, best first.
        confidence: Calibrated probability that the top article answers the question.
        threshold: The confidence the knowledge base needs before the bot answers.
        margin: Similarity gap between the top two articles (1.0 when only one matched).
        uncovered: The weighted share of the question's words the top article's text does not
            hold, where the knowledge base checks it (small knowledge bases); else None.
        learned: The confidence is the one learned across deployments
            (``knowledge.answer_model``), which reads ``uncovered`` itself.
    """

    query: str
    matches: tuple[ArticleMatch, ...]
    confidence: float
    threshold: float
    margin: float
    uncovered: float | None = None
    learned: bool = False

    @property
    def best(self) -> ArticleMatch | None:
        return self.matches[0] if self.matches else None


class EscalationReason(StrEnum):
    """Why the bot hands a conversation to a person."""

    LOW_CONFIDENCE = "low_confidence"
    NOT_COVERED = "not_covered"  # sure of the topic, but the article's words miss the question
    AMBIGUOUS = "ambiguous"
    HUMAN_REQUEST = "human_request"
    COMPLAINT = "complaint"
    FRUSTRATION = "frustration"
    SENSITIVE = "sensitive"
    REPEATED_FAILURE = "repeated_failure"
    WROTE_BACK = "wrote_back"  # the customer wrote back after an agent's reply


UNSURE = frozenset(
    {EscalationReason.LOW_CONFIDENCE, EscalationReason.NOT_COVERED, EscalationReason.AMBIGUOUS}
)
"""The reasons that say the bot was unsure (rather than that the case needs a person)."""

REASON_LABELS: dict[EscalationReason, str] = {
    EscalationReason.LOW_CONFIDENCE: "Low confidence or out of scope",
    EscalationReason.NOT_COVERED: "The closest article does not cover what was asked",
    EscalationReason.AMBIGUOUS: "Two articles match about equally",
    EscalationReason.HUMAN_REQUEST: "Customer asked for a person",
    EscalationReason.COMPLAINT: "Complaint",
    EscalationReason.FRUSTRATION: "Customer is frustrated",
    EscalationReason.SENSITIVE: "Sensitive topic",
    EscalationReason.REPEATED_FAILURE: "Answers did not help",
    EscalationReason.WROTE_BACK: "Customer wrote back to an agent",
}


@dataclass(frozen=True)
class Reading:
    """What the learned signal heads read in one message (the knowledge side computes it from
    the query embedding; see ``knowledge.heads``).

    Attributes:
        levels: Each head's level, 0..1, scaled so that 0.5 is the point where the head fires
            (frustration, human_request, complaint, gratitude, and one per sensitive topic).
        echo: Cosine similarity to the most similar earlier message read with it (the same
            question asked again scores near 1).
        punctuation: The frustration level already reads ``!`` and ``?`` (a learned lexical
            head), so the signals do not add them again.
        rest: The frustration head's level on the message without its calm words or its
            questions about a case, when it has some (``bot.calm_words.calm_rest``: "that's
            fine, I'll do a chargeback" reads the chargeback); None when it has none or no
            head read it.
        solved_rest: The same on the message without the words that say the problem is
            solved, when they close it (``bot.calm_words.solved_rest``: "the van got stuck
            behind a bin lorry. all good" reads the van); None otherwise.
    """

    levels: Mapping[str, float] = field(default_factory=dict)
    echo: float = 0.0
    punctuation: bool = False
    rest: float | None = None
    solved_rest: float | None = None

    def fired(self, name: str) -> bool:
        return self.levels.get(name, 0.0) >= 0.5


@dataclass(frozen=True)
class Signals:
    """What the core read from the customer's words.

    Attributes:
        human_request: The customer asked for a person.
        complaint: The customer wants to complain.
        frustration: 0..1, how frustrated the customer sounds over the conversation.
        sensitive_topics: Configured sensitive topics that the text touches.
        trend: Frustration of each customer turn read, oldest first (the latest last).
        grateful: The latest message thanks or sounds relieved ("ah that worked, thank you!").
    """

    human_request: bool = False
    complaint: bool = False
    frustration: float = 0.0
    sensitive_topics: tuple[str, ...] = ()
    trend: tuple[float, ...] = ()
    grateful: bool = False


@dataclass(frozen=True)
class Decision:
    """The core's answer-or-escalate decision for one customer message.

    Attributes:
        action: ``"answer"`` or ``"escalate"``.
        reasons: Why it escalated (empty when it answers).
        answer: The article it answers with.
        retrieval: What the knowledge base found.
        signals: What it read from the customer's words.
    """

    action: Literal["answer", "escalate"]
    retrieval: Retrieval
    signals: Signals
    reasons: tuple[EscalationReason, ...] = field(default=())
    answer: ArticleMatch | None = None
