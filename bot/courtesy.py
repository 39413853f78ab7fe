"""Messages that ask nothing: a greeting, thanks, a goodbye, an "ok". The bot answers them with
a line of its own instead of passing the customer to a person ("hi" or "thanks, that's all"
is not a question the bot was unsure of).

Only the whole message counts: every word must be one of these ("thanks, and where is my
order?" is a question). The words are general courtesy in English, never a dataset's wording.
"""

from __future__ import annotations

import re
from enum import StrEnum

_GREETING = (
    r"hi|hello|hey|hiya|howdy|greetings|good\s+(?:morning|afternoon|evening|day)|"
    r"(?:hi|hello|hey)\s+(?:there|all|everyone|team|guys|folks)"
)
_THANKS = (
    r"thanks?|thank\s+you|thankyou|thx|ty|ta|cheers|much\s+appreciated|appreciate\s+it|"
    r"many\s+thanks|bye|goodbye|bye\s+bye|see\s+you|see\s+ya|take\s+care|"
    r"have\s+a\s+(?:nice|good|great|lovely)\s+(?:day|evening|weekend|one)|"
    r"that'?s\s+(?:all|it|everything|great|perfect|helpful|brilliant)|"
    r"that\s+(?:helps|helped|is\s+all|was\s+all)|nothing\s+else|all\s+(?:good|sorted|set)|"
    r"no\s+worries|no\s+problem|so\s+much|very\s+much|a\s+lot|again|for\s+(?:the|your)\s+help"
)
_ACK = (
    r"ok(?:ay)?|k|kk|sure|cool|great|perfect|brilliant|awesome|lovely|nice|fine|alright|"
    r"got\s+it|understood|makes\s+sense|noted|will\s+do"
)
_FILLER = r"and|so|oh|ah|well|then|just|really|you|guys|mate|team|again"
_SEPARATOR = r"[\s,!.:;)(~-]*"
_EMOJI = "👍🙏😊🙂😀😄👌✅💯🙌👏❤♥\ufe0f"  # thumbs up, thanks, smiles, hearts
_PARTS = {
    "greeting": re.compile(rf"\b(?:{_GREETING})\b", re.IGNORECASE),
    "thanks": re.compile(rf"\b(?:{_THANKS})\b", re.IGNORECASE),
    "ack": re.compile(rf"\b(?:{_ACK})\b", re.IGNORECASE),
}
_WHOLE = re.compile(
    rf"^{_SEPARATOR}(?:(?:{_GREETING}|{_THANKS}|{_ACK}|{_FILLER})\b{_SEPARATOR}|[{_EMOJI}]+{_SEPARATOR})+$",
    re.IGNORECASE,
)


class Courtesy(StrEnum):
    """What a message that asks nothing says."""

    GREETING = "greeting"  # "hi", "good morning": the conversation starts
    THANKS = "thanks"  # "thanks, that's all", "bye", "👍": the customer is done
    ACK = "ack"  # "ok", "got it", "great": the customer read the reply


def courtesy(text: str) -> Courtesy | None:
    """What ``text`` says when it says nothing but courtesy; None when it says anything else.

    "hi" is a greeting; "thanks, that's all" and "great, thank you!" thanks; "ok" or "got it"
    an acknowledgement. Not "yes", "no" or "sorry" (an answer or a rejection), not "thanks for
    nothing", and not a message with anything more in it.
    """
    clean = text.strip().replace("’", "'")
    if not clean:
        return None
    if not _WHOLE.match(clean):
        return None
    if _PARTS["thanks"].search(clean):
        return Courtesy.THANKS
    if _PARTS["ack"].search(clean):
        return Courtesy.ACK
    if _PARTS["greeting"].search(clean):
        return Courtesy.GREETING
    return Courtesy.THANKS if any(ch in _EMOJI for ch in clean) else None
