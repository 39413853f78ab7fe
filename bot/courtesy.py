"""Messages that ask nothing: a greeting, thanks, a goodbye, an "ok"; and the one question about
the bot itself, "are you a bot?". The bot answers them with a line of its own instead of
passing the customer to a person ("hi" or "thanks, that's all" is not a question the bot was
unsure of).

Only the whole message counts: every word must be one of these ("thanks, and where is my
order?" is a question). The words are general courtesy in English, never a dataset's wording.
A closing in the customer's own words ("found it in my account, thanks!", "ah ok, makes sense.
thanks for explaining") counts as thanks when the signals read it as calm thanks or a problem
solved and little else is said (``closes``).
"""

from __future__ import annotations

import re
from enum import StrEnum

from bot.calm_words import resolved
from bot.model import UNSURE, Decision, Signals
from bot.signals import CALM, thanks_calmly

MAX_CHARS = 80  # longer messages say more than courtesy (and are never matched at all)
_GREETINGS = "hi|hello|hey|hiya|howdy|greetings|good morning|good afternoon|good evening|good day"
_THANKS = (
    "thanks|thank you|thank|thankyou|thx|ty|ta|cheers|much appreciated|appreciate it|"
    "many thanks|bye|goodbye|see you|see ya|take care|have a nice day|have a good day|"
    "have a great day|have a lovely day|have a good evening|have a nice evening|"
    "have a good weekend|have a nice weekend|have a good one|have a nice one|that's all|"
    "that's it|that's everything|that's great|that's perfect|that's helpful|that's brilliant|"
    "thats all|thats it|thats great|thats perfect|that helps|that helped|that is all|"
    "that was all|nothing else|all good|all sorted|all set|no worries|no problem|sorted|"
    "all done|that's all i needed|that's all i need|that's what i needed|that answers it|"
    "that answers my question|good to know"
)
_ACKS = (
    "ok|okay|k|kk|sure|cool|great|perfect|brilliant|awesome|lovely|nice|fine|alright|got it|"
    "understood|makes sense|noted|will do"
)
# Words that only go with the others: "thanks so much again", "hi there team".
_ALONG = (
    "and|so|oh|ah|well|then|just|really|you|guys|mate|team|again|there|all|everyone|folks|"
    "so much|very much|a lot|for the help|for your help"
)
_EMOJI = "👍🙏😊🙂😀😄👌✅💯🙌👏❤♥"  # thumbs up, thanks, smiles, hearts
_HAPPY = re.compile(r"[:;]-?[)d]|\(-?[:;]")  # ":)", ";-)", ":D", "(:" (never ":(" or ":/")
_SKIN_TONE = re.compile("[\U0001f3fb-\U0001f3ff]")
_TOKEN = re.compile(rf"[a-z']+|[{_EMOJI}]")
# What the customer is talking to: "are you a bot?", "am I chatting with an AI?", "is this
# automated". Said alone, perhaps after a greeting. Not "are you a real person?", which the
# signals read as a request for a person, nor "is that automated?", which may ask about a text
# the customer was sent.
_WHAT = r"(?:a\s+|an\s+)?(?:bot|robot|chat\s*bot|human|person|machine|ai|computer)"
_IDENTITY = re.compile(
    r"^(?:(?:hi|hello|hey|hey\s+there|hi\s+there|sorry|quick\s+question|just\s+wondering)\W+)?"
    r"(?:(?:are|r)\s+(?:you|u)|am\s+i\s+(?:talking|speaking|chatting)\s+(?:to|with))\s+"
    rf"{_WHAT}(?:\s+or\s+{_WHAT})?\W*$|"
    r"^(?:(?:hi|hello|hey)\W+)?is\s+this\s+(?:(?:a\s+)?(?:bot|robot|chat\s*bot)|an?\s+ai|automated)"
    r"\W*$"
)
# A closing in the customer's own words: beyond its courtesy it says only that the customer
# found or understood it ("found it in my account", "for explaining", "I'll try that"), in at
# most a few more words. Anything else (a new problem, a request, a rejection, sarcasm, a
# disclosure) is left to the knowledge base and the signals, and to a person when unsure.
CLOSING_OTHER_WORDS = 6  # more words beside a problem said solved ("the discount code worked")
_CLOSING = re.compile(
    r"^(?:(?:i\s+|i've\s+|ive\s+)?(?:found|got|see|seen|spotted)\s+it"
    r"|(?:it|that|this)\s+(?:makes\s+sense|works|worked|helps|helped|did\s+(?:it|the\s+trick))"
    r"|for\s+(?:explaining|clarifying|the\s+(?:info|information|explanation|quick\s+reply|reply))"
    r"|i'?ll\s+(?:try|do)\s+that|will\s+try\s+that|that's\s+(?:sorted|fine|clear)|all\s+clear"
    r"|understood)"
    r"(?:\s+(?:in|on|at|now|my|the|your|app|account|emails?|inbox|spam|folder|junk|order|orders|"
    r"history|page|site|website|settings|profile)){0,4}$"
)
_MORE = re.compile(
    r"\?|\b(?:but|however|although|though|except|also|another|still|btw|by\s+the\s+way|"
    r"one\s+more|not|no|nope|please|pls|plz|send|refund|call|ring|want|need|like|get|pass|"
    r"same|tried|already|again|wrong|missing|waiting|useless|wast\w*|really)\b|n't\b"
)
_DETAIL = re.compile(r"\d|@")  # an order number, a date, an amount, an email: a detail told
_ALLOWED = re.compile(rf"^[a-z'\s,!.;~\-{_EMOJI}\ufe0f]*$")  # no digits, "?", ":(" or "(:"


def _phrases(alternatives: str, said: str) -> list[tuple[tuple[str, ...], str]]:
    return [(tuple(p.split()), said) for p in alternatives.split("|")]


# Longest first, so that "thank you" is one phrase, never "thank" and "you".
_PHRASES = sorted(
    [
        *_phrases(_GREETINGS, "greeting"),
        *_phrases(_THANKS, "thanks"),
        *_phrases(_ACKS, "ack"),
        *_phrases(_ALONG, "along"),
        *(((emoji,), "thanks") for emoji in _EMOJI),
    ],
    key=lambda phrase: -len(phrase[0]),
)


class Courtesy(StrEnum):
    """What a message that asks nothing says."""

    GREETING = "greeting"  # "hi", "good morning": the conversation starts
    IDENTITY = "identity"  # "are you a bot?": the bot says what it is
    THANKS = "thanks"  # "thanks, that's all", "bye", "👍": the customer is done
    ACK = "ack"  # "ok", "got it", "great": the customer read the reply


def courtesy(text: str) -> Courtesy | None:
    """What ``text`` says when it says nothing but courtesy; None when it says anything else.

    "hi" is a greeting; "thanks, that's all" and "great, thank you!" thanks; "ok" or "got it"
    an acknowledgement; "are you a bot?" asks what the customer is talking to. Not "yes", "no"
    or "sorry" (an answer or a rejection), not "thanks for nothing", "ok :(" or "hi?", and not
    a message with anything more in it. The courtesy words are read one phrase at a time
    (linear in the message, which is short); the question about the bot is one anchored pattern
    on at most ``MAX_CHARS`` characters.
    """
    clean = _HAPPY.sub(" 🙂 ", text.strip().lower().replace("’", "'"))
    clean = _SKIN_TONE.sub("", clean).replace("…", ".").replace("–", "-").replace("—", "-")
    if not clean or len(clean) > MAX_CHARS:
        return None
    if _IDENTITY.match(clean):
        return Courtesy.IDENTITY
    if not _ALLOWED.match(clean):
        return None
    said, others = _read(_tokens(clean))
    if others:
        return None
    for kind in (Courtesy.THANKS, Courtesy.ACK, Courtesy.GREETING):
        if kind.value in said:
            return kind
    return None


def _tokens(clean: str) -> list[str]:
    """The words and emoji of a lower-cased message."""
    return [token for token in (t.strip("'") for t in _TOKEN.findall(clean)) if token]


def _read(tokens: list[str]) -> tuple[set[str], list[str]]:
    """The kinds of courtesy phrase ``tokens`` hold, and the words that are none, in order (one
    phrase at a time, longest first: linear in the message)."""
    said: set[str] = set()
    others: list[str] = []
    at = 0
    while at < len(tokens):
        for words, kind in _PHRASES:
            if tuple(tokens[at : at + len(words)]) == words:
                said.add(kind)
                at += len(words)
                break
        else:
            others.append(tokens[at])
            at += 1
    return said, others


def closes(text: str, signals: Signals) -> bool:
    """A closing in the customer's own words, which asks nothing, tells no detail (digits, an
    email) and has nothing more to say (``_MORE``: "but", "please", "still", "useless"…): either
    it thanks calmly (the gratitude head, ``thanks_calmly``) and says beyond its courtesy only
    that the customer found or understood it (``_CLOSING``: "found it in my account, thanks!",
    "ah ok, makes sense. thanks for explaining"), or it says calmly that the problem is solved
    (``resolved``: "thanks, the discount code worked") in at most ``CLOSING_OTHER_WORDS`` more
    words. "thanks, my parcel is missing", "thanks for wasting my time" and "thanks, it's
    LK-48213" do not close."""
    clean = text.strip().lower().replace("’", "'")
    if _MORE.search(clean) or _DETAIL.search(clean):
        return False
    _, others = _read(_tokens(clean))
    if thanks_calmly(text, signals) and _CLOSING.match(" ".join(others)):
        return True
    return resolved(text) and signals.frustration < CALM and len(others) <= CLOSING_OTHER_WORDS


def courtesy_only(text: str, decision: Decision, *, own_words: bool = True) -> Courtesy | None:
    """What ``text`` says when it is courtesy and nothing in the decision calls for a person:
    a reason other than the bot being unsure (a signal, frustration) still escalates. A closing
    in the customer's own words (``closes``) is thanks too, never answered with an article,
    unless ``own_words`` is False (after an agent wrote, it may answer what they asked)."""
    said = courtesy(text)
    if said is None and own_words and closes(text, decision.signals):
        said = Courtesy.THANKS
    return said if said is not None and set(decision.reasons) <= UNSURE else None
