"""Every sentence Tandem says to a customer or an agent, in one place to review and reword."""

from __future__ import annotations

from collections.abc import Sequence

# -- to customers --------------------------------------------------------------------------
JOINED = "{agent} from our team has joined the conversation."
HANDED_BACK = "You're back with our virtual assistant. Ask me anything, or ask for a person."
RESOLVED = "This conversation is resolved. Thanks for getting in touch; write again any time."
PERSON_SOON = "A person from our team will reply shortly."
"""What ``/api/ask`` says when the bot would escalate (there is no conversation to wait in)."""
TURN_FAILED = "Sorry, something went wrong. Please try again."


def _where(position: int, minutes: int) -> str:
    ahead = (
        "You're next in the queue" if position == 1 else f"You're number {position} in the queue"
    )
    return f"{ahead}; the expected wait is {wait_in_words(minutes)}."


def wait_in_words(minutes: int) -> str:
    """A wait as a customer reads it: "about 15 minutes", "about an hour", "about 7 hours"."""
    if minutes < 60:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    if minutes < 90:
        return "about an hour"
    return f"about {round(minutes / 60)} hours"


def wait_notice(position: int, minutes: int) -> str:
    """The escalation notice, with where the customer stands."""
    return (
        "I'm passing you to a person from our team. They'll reply here. "
        f"{_where(position, minutes)}"
    )


# Said first when a message tells of a death or of someone at risk (the ``bereavement`` and
# ``crisis`` topics, ``bot.signals``), before where the customer stands.
CONDOLENCE = "I'm so sorry for your loss."
CRISIS = "If you or someone else is in danger right now, please call your local emergency number."


def _care_line(topics: Sequence[str]) -> str | None:
    return CRISIS if "crisis" in topics else CONDOLENCE if "bereavement" in topics else None


def with_care(notice: str, topics: Sequence[str]) -> str:
    """``notice`` after the line a customer at risk or bereaved needs first (none otherwise)."""
    line = _care_line(topics)
    return f"{line} {notice}" if line else notice


def care_opening(topics: Sequence[str]) -> str | None:
    """How a draft opens for a customer at risk or bereaved (None otherwise)."""
    if "crisis" in topics:
        return f"Hi, thank you for telling us. {CRISIS}"
    return f"Hi, {CONDOLENCE}" if "bereavement" in topics else None


def draft_with_care(draft: str, topics: Sequence[str]) -> str:
    """A model-written draft with the line the customer needs first, unless it says it."""
    line = _care_line(topics)
    if line is None or line.rstrip(".").lower() in draft.lower():
        return draft
    return f"{line}\n\n{draft}"


def still_waiting(position: int, minutes: int, *, upset: bool, asked_for_person: bool) -> str:
    """A reply to a customer's message while they wait: it is on the card, and where they
    stand."""
    if asked_for_person:
        opening = "A person from our team will take over this conversation."
    elif upset:
        opening = "I'm sorry for the wait. I've added this to your conversation for our team."
    else:
        opening = "Thanks, I've added this to your conversation for our team."
    return f"{opening} {_where(position, minutes)}"


# Said to "never mind, sorted it" and to "forget it" alike: it does not assume the problem
# was solved.
WAIT_CLOSED = (
    "Understood. I've let our team know you no longer need them. "
    "If you do need us again, just write here."
)
ANSWERED_WHILE_WAITING = "A person from our team will still reply about your earlier question."


GREETED = "Hello! What can I help you with?"
IDENTITY = (
    "I'm an automated assistant: I answer from our help articles, and I pass you to a person "
    "from our team whenever I can't help or you ask for one."
)
"""The bot's line to "are you a bot?" (``bot.courtesy``): what it is, and that a person is there."""
WELCOME = "Glad to help. If there's anything else, just ask here."
"""The bot's line after thanks, a goodbye or an "ok" (``bot.courtesy``)."""


WROTE_BACK_TO = "Customer wrote back to {agent}"
"""A write-back's reason on the card, naming the agent whose reply the customer answers."""


def passed_back(position: int, minutes: int) -> str:
    """The notice when a customer writes back after an agent's reply and the bot passes it on."""
    return f"Thanks, I've passed this to our team. They'll reply here. {_where(position, minutes)}"


def follow_up(agent: str, question: str) -> str:
    """Hand back with a question the bot cannot answer: the agent follows up."""
    return f'I couldn\'t answer "{question}" myself, so {agent} will follow up on it here.'


# -- to agents: live assist ----------------------------------------------------------------
def suggested_articles(titles: str, confidence: float) -> str:
    return (
        f"Suggested articles: {titles}. Confidence {confidence:.2f}. "
        "The draft on the card is updated."
    )


def suggested_reply(text: str) -> str:
    return f"Suggested reply: {text}"


AT_RISK = (
    "The customer may be at risk (self-harm, abuse or danger): reply now, and follow your "
    "team's safeguarding steps."
)


def frustration_rising(score: float) -> str:
    return (
        f"Frustration is rising ({score:.2f}). Consider acknowledging "
        "the trouble and giving a clear next step."
    )


def reannounced(minutes: int, label: str) -> str:
    return f"Still waiting for a person after {minutes} min (priority: {label}). Who can take it?"


TAGGED = "Tagged: {title}"
"""The internal note a tag leaves on the card; the card reads its latest one back to preselect
the tagged article."""
NOT_IN_KB_TITLE = "not in the knowledge base"
CLOSED_BY_CUSTOMER = "The customer no longer needs help and closed the wait."
FOLLOW_UP_NOTE = "Handed back with an open question the bot could not answer: {question}"

RESOLVE_UNANSWERED = "The customer is still waiting for a reply to: \u201c{need}\u201d"
RESOLVE_PROMISED = "You told the customer you would come back to them: \u201c{reply}\u201d"
"""Said before a resolve (a confirmation on every channel) that would leave the customer
waiting: their latest need has no reply, or the agent's last reply promised one."""

# -- to agents: the outcome of an action ---------------------------------------------------
SENT = "Sent to the customer."
ALREADY_SENT = "Already sent; nothing was sent twice."
ALREADY_DONE = "Already done."
NOTHING_TWICE = "Already done; nothing was sent twice."
BUSY = "The conversation is busy; try again."
HOLDS = "{holder} holds this conversation."
ALREADY_TOOK_OVER = "{holder} already took over."
YOU_HOLD_ALREADY = "You already hold this conversation."
YOU_HOLD = "You hold the conversation; the bot stays silent."
NOT_WAITING = "This escalation is no longer waiting for a reply."
CONVERSATION_RESOLVED = "This conversation is resolved."
ESCALATED_AGAIN = (
    "The customer wrote again and this conversation escalated anew: act on the newer card."
)
ESCALATION_CLOSED = "This escalation is closed."
DONE_RESOLVED = "Resolved."
DONE_HANDED_BACK = "Handed back to the bot."
NEW_DRAFT = "A new draft is on the card."
NOTE_ADDED = "Note added (internal)."
NO_TEXT = "there is no text to send"
NOTE_NEEDS_TEXT = "a note needs text"
TOO_LONG = "a reply is limited to {limit} characters"
