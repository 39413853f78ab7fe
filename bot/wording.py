"""Every sentence Tandem says to a customer or an agent, in one place to review and reword."""

from __future__ import annotations

# -- to customers --------------------------------------------------------------------------
JOINED = "{agent} from our team has joined the conversation."
HANDED_BACK = "You're back with our virtual assistant. Ask me anything, or ask for a person."
RESOLVED = "This conversation is resolved. Thanks for getting in touch; write again any time."
PERSON_SOON = "A person from our team will reply shortly."
"""What ``/api/ask`` says when the bot would escalate (there is no conversation to wait in)."""
TURN_FAILED = "Sorry, something went wrong. Please try again."


def wait_notice(expected_wait_minutes: int, waiting: int) -> str:
    """The escalation notice: the quoted wait grows by one step for every five waiting."""
    minutes = expected_wait_minutes * (1 + waiting // 5)
    return (
        f"I'm passing you to a person from our team. They'll reply here shortly "
        f"(usually within {minutes} minutes)."
    )


# -- to agents: live assist ----------------------------------------------------------------
def suggested_articles(titles: str, confidence: float) -> str:
    return (
        f"Suggested articles: {titles}. Confidence {confidence:.2f}. "
        "The draft on the card is updated."
    )


def frustration_rising(score: float) -> str:
    return (
        f"Frustration is rising ({score:.2f}). Consider acknowledging "
        "the trouble and giving a clear next step."
    )


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
ESCALATION_CLOSED = "This escalation is closed."
DONE_RESOLVED = "Resolved."
DONE_HANDED_BACK = "Handed back to the bot."
NEW_DRAFT = "A new draft is on the card."
NOTE_ADDED = "Note added (internal)."
NO_TEXT = "there is no text to send"
NOTE_NEEDS_TEXT = "a note needs text"
TOO_LONG = "a reply is limited to {limit} characters"
