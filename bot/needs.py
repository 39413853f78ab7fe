"""What the customer still needs: their messages read sentence by sentence, with greetings,
chit-chat, venting, "that didn't help" and requests for a person left out, and each need
closed by the reply that answered it.

Pure: a conversation history in, needs out. The cues are general linguistic ones (a question,
a request verb, a first-person problem, a fact such as an order number), never a dataset's
wording.

* A bot answer closes the needs raised since the previous reply; a customer who says it did
  not help (``phrases.NOT_HELPFUL``, directly after it) reopens them.
* An agent's message closes every need before it; a resolution does too.
* An escalation notice and the other notices close nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.conversation import Kind, Message
from bot.courtesy import courtesy
from bot.facts import key_facts
from bot.phrases import COMPLAINT, HUMAN_REQUEST, NOT_HELPFUL, REPEAT_CONTACT
from bot.signals import frustration
from bot.text import clip

MAX_LOOKUPS = 3
"""How many needs the engine looks up in the knowledge base for a card (the goal first)."""
GOAL_CHARS = 200
QUESTION_CHARS = 2000

_SENTENCE_END = re.compile(r"(?<=[.?!:;])\s+|\n+")
_CHATTER = re.compile(
    r"^\W*(?:(?:hi|hello|hey|hiya|yo|greetings|good\s+(?:morning|afternoon|evening|day)|"
    r"thanks?(?:\s+(?:you|a\s+lot|so\s+much))?|thank\s+you(?:\s+(?:so|very)\s+much)?|cheers|"
    r"ok(?:ay)?|k|sure|cool|great|perfect|fine|alright|right|yes|yeah|yep|no|nope|nah|bye|"
    r"goodbye|see\s+you|have\s+a\s+(?:nice|good|great)\s+\w+|how\s+are\s+you(?:\s+doing)?|"
    r"hope\s+you(?:'re|\s+are)\s+(?:well|good)|lol|haha\w*|hmm+|please|sorry|anyway|"
    r"there|again|all|everyone|team|guys|folks|mate|so|and|but|well|oh|ah|now|today)"
    r"\b[\s,!.?:;)(-]*)+$",
    re.IGNORECASE,
)
_LEADING_CHATTER = re.compile(
    # "there" only after a greeting: "there are 3 payments I never made" keeps its first word.
    r"^(?:(?:(?:hi|hello|hey|hiya)(?:\s+there)?|good\s+(?:morning|afternoon|evening)|thanks|"
    r"ok(?:ay)?|so|well|also|and|oh|um+)\b[\s,!.:;-]*)+(?=\w)",
    re.IGNORECASE,
)
_SMALL_TALK = re.compile(
    r",\s*(?:is|are|was|were|do|does|did|has|have|can|could|would|will)n'?t\s+(?:it|they|you|"
    r"we|there|that|this)\s*\?*$|,\s*(?:right|eh|huh|no)\s*\?+$|"
    r"\b(?:any(?:one|body)|some(?:one|body)|you)\s+(?:still\s+)?there\b|"
    r"\bare\s+you\s+(?:a\s+)?(?:real|bot|robot|human|person|machine|ai)\b|"
    r"\bhow(?:'s|\s+is|\s+was)\s+(?:your|the)\s+(?:day|week|weekend|morning|evening)\b|"
    r"\bhow\s+are\s+(?:you|things)\b|\b(?:weather|weekend)\b",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(?:return|refund|exchange|replace|cancel|change|update|amend|track|trace|reset|"
    r"unlock|deliver|ship|send|resend|reschedule|order|buy|pay|book|fix|repair|collect|"
    r"close|delete|remove|add|apply|claim|compensate|complain|report|recover|restore|transfer|"
    r"upgrade|downgrade|renew|register|sign\s+up|log\s*in|sign\s+in|get\s+back)\w*\b",
    re.IGNORECASE,
)
_WANT = re.compile(
    r"\b(?:i|we)(?:'d|\s+would)\s+like\b|\b(?:i|we)\s+(?:want|need|wish|have)\s+to\b|"
    r"\b(?:i|we)\s+(?:want|need)\b|\bplease\s+\w+|\bhelp\s+me\b",
    re.IGNORECASE,
)
_PROBLEM = re.compile(
    r"\b(?:my|our)\s+(?:\w+\s+){0,3}?(?:is|was|are|were|has|have|had|hasn'?t|haven'?t|"
    r"isn'?t|wasn'?t|aren'?t|weren'?t|did\s*n'?t|does\s*n'?t|won'?t|can'?t|never|still|got|"
    r"keeps?|arrived|came|broke|stopped)\b|"
    r"\b(?:broken|damaged|cracked|torn|scratched|dented|leaking|stained|shattered|faulty|defective|missing|wrong|lost|stolen|late|delayed|stuck|"
    r"overcharged|charged\s+twice|double\s+charged|not\s+(?:working|arrived|delivered|received)|"
    r"never\s+(?:arrived|came|received|got)|does\s*n'?t\s+work|did\s*n'?t\s+(?:arrive|come|work)|"
    r"(?:has|have)\s*n'?t\s+(?:arrived|come|been))\b",
    re.IGNORECASE,
)
_ASKS = re.compile(
    r"^\W*(?:how|what|when|where|why|who|which|whose|can|could|would|will|shall|should|"
    r"do|does|did|is|are|was|were|am|has|have|may|might)\b",
    re.IGNORECASE,
)
_RHETORICAL = re.compile(
    r"^\W*(?:why|how)\s+(?:is|does|do|did|was|can|can'?t|is\s*n'?t|are)\s+(?:this|it|that|"
    r"everything|nothing|nobody|no\s*one|you(?:r\s+\w+)?)\s+(?:so|always|never|still|even|"
    r"this|that|such)\b",
    re.IGNORECASE,
)
_HOLDING = re.compile(
    r"\blet\s+me\s+(?:check|look|see|find|ask|have\s+a\s+look)|\bone\s+moment\b|"
    r"\bjust\s+a\s+(?:moment|sec(?:ond)?|minute)\b|\bbear\s+with\s+me\b|"
    r"\bgive\s+me\s+a\s+(?:moment|sec(?:ond)?|minute)\b|\bplease\s+hold\b|\bhold\s+on\b|"
    r"\bi'?m\s+(?:just\s+)?(?:checking|looking)\b|\bget\s+back\s+to\s+you\b|"
    r"\bsorry\s+to\s+hear\b|\bthanks?(?:\s+you)?\s+for\s+(?:your\s+)?(?:patience|waiting)\b|"
    r"\b(?:happy|glad)\s+to\s+help\b|\bno\s+problem\b|\bhow\s+can\s+i\s+help\b|"
    r"^\W*\w+\s+here\W*$|\bmy\s+name\s+is\b|"
    # Courtesy in a short sentence of its own ("Thanks for flagging this.", "I understand."),
    # and asking the customer for a detail ("Please confirm your postcode.", "let me know").
    r"^\W*(?:thanks|thank\s+you)(?:\s+(?:so|very)\s+much)?\s+for\s+(?:\w+\s+){0,4}\w+\W*$|"
    r"^\W*(?:i\s+(?:completely\s+|totally\s+)?understand|i\s+see|i'?m\s+(?:so\s+|very\s+|really\s+)?"
    r"sorry\s+(?:about|for|that)\b)|"
    r"^\W*(?:please\s+|could\s+you\s+|can\s+you\s+)?(?:tell|confirm|share|provide)\s+(?:me|us)\b|"
    r"^\W*(?:please|could\s+you|can\s+you)\s+(?:confirm|share|provide|tell)\b|"
    r"\blet\s+(?:me|us)\s+know\b",
    re.IGNORECASE,
)
# An agent promising to come back to the customer later ("I'll check with the warehouse and
# get back to you", "our billing team will email you", "one moment while I check").
_PROMISE = re.compile(
    r"\b(?:i'?ll|i\s+will|we'?ll|we\s+will|i'?m\s+going\s+to|we'?re\s+going\s+to|let\s+me)\s+"
    r"(?:\w+\s+){0,3}?(?:get\s+back|come\s+back|check|look\s+into|find\s+out|follow\s+up|"
    r"chase|update\s+you|let\s+you\s+know|keep\s+you\s+(?:posted|updated|informed)|call|ring|"
    r"phone|email|e-mail|message|text|contact|be\s+in\s+touch|investigate|escalate|raise)\b|"
    r"\b(?:will|'ll)\s+(?:\w+\s+)?(?:email|e-mail|call|ring|phone|text|message|contact|"
    r"get\s+back\s+to|reach\s+out\s+to)\s+you\b|\b(?:will|'ll)\s+be\s+in\s+touch\b|"
    r"\byou'?ll\s+hear\s+(?:from|back)\b|\bwhile\s+(?:i|we)\s+(?:check|look|find\s+out)\b",
    re.IGNORECASE,
)
_CONDITION = re.compile(r"\W*(?:if|in\s+case)\b", re.IGNORECASE)  # "If it hasn't come, I'll…"
_SIGN_OFF = re.compile(r"\W*(?:sorry|apologies|thanks|thank\s+you|speak|talk|hang)\b", re.I)
_ASKS_FOR_DETAIL = re.compile(
    r"(?:^|[,;]\s*|\b(?:please|and)\s+)(?:could\s+you\s+|can\s+you\s+)?(?:tell|confirm|share|"
    r"provide|send)\s+(?:me|us)\b|\b(?:please|could\s+you|can\s+you)\s+(?:confirm|share|"
    r"provide|tell|send)\b|\blet\s+(?:me|us)\s+know\b",
    re.IGNORECASE,
)
_ANYTHING_ELSE = re.compile(
    # Courtesy check-ins, not questions: "Is there anything else I can help with?", "Did that
    # help?", "Let me know if that helps!", "Does that answer your question?"
    r"\blet\s+(?:me|us)\s+know\s+if\s+(?:that|this|it)\s+(?:helps|works|answers|sorts|solves)"
    r"(?:\s+(?:it|things|your\s+question))?|"
    r"\b(?:is\s+there\s+)?(?:anything|something)\s+else(?:\s+i\s+can\s+(?:help|do)(?:\s+"
    r"(?:you\s+)?with)?)?|\bany\s+other\s+(?:questions?|way)\b|"
    r"\b(?:did|does|has|have|will|would)\s+(?:that|this|it)\s+(?:help|helped|work|worked|"
    r"answer|answered|sort|sorted|solve|solved)\b(?:\s+(?:your|the)\s+(?:question|problem|issue)|"
    r"\s+it|\s+for\s+you)?|\bif\s+(?:that|this|it)\s+(?:helps|works|answers|sorts|solves)\b"
    r"(?:\s+for\s+you)?",
    re.IGNORECASE,
)
_ANNOUNCES = re.compile(r"\b(?:about|regarding|concerning|because|since)\b", re.IGNORECASE)
VENTING = 0.3
"""A sentence at this frustration or above, with no concrete cue, is venting."""


@dataclass(frozen=True)
class Need:
    """Something the customer asked for or reported, in their words.

    Attributes:
        text: The sentence, with the plain sentences that follow it in the same message.
        message_id: The message it was raised in.
    """

    text: str
    message_id: int


def sentences(text: str) -> list[str]:
    """A message split into sentences (at ``.``, ``?``, ``!`` and line breaks)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _words(sentence: str) -> int:
    return len(re.findall(r"[A-Za-z0-9'#-]+", sentence))


def is_chatter(sentence: str) -> bool:
    """Greetings, thanks and small talk; "that didn't help"; a bare request for a person."""
    if _CHATTER.match(sentence) or NOT_HELPFUL.search(sentence):
        return True
    if _SMALL_TALK.search(sentence) and not _concrete(sentence):
        return True
    return bool(HUMAN_REQUEST.search(sentence)) and not _concrete(sentence)


def _concrete(sentence: str) -> bool:
    """A cue that the sentence is about something specific the customer wants done."""
    return bool(
        _PROBLEM.search(sentence)
        or COMPLAINT.search(sentence)
        or key_facts([sentence], mask=False)
        or (_REQUEST.search(sentence) and _words(sentence) >= 3)
    )


def is_venting(sentence: str) -> bool:
    """Frustration without anything to act on: "This is ridiculous!!!", "I've asked TWICE"."""
    upset = (
        frustration(sentence) >= VENTING
        or bool(REPEAT_CONTACT.search(sentence))
        or bool(re.search(r"[!?]{2,}", sentence))
        or bool(_RHETORICAL.match(sentence))
    )
    return upset and not _concrete(sentence)


def is_need(sentence: str) -> bool:
    """A sentence that asks for something: a question, a request, a problem, a fact."""
    if is_chatter(sentence) or is_venting(sentence):
        return False
    if _concrete(sentence):
        return True
    asks = _asks(sentence) and _words(sentence) >= 3
    return asks or (bool(_WANT.search(sentence)) and _words(sentence) >= 4)


def _asks(sentence: str) -> bool:
    """The sentence is put as a question: a question mark, or a question's first word."""
    return sentence.endswith("?") or bool(_ASKS.match(sentence))


def is_question(text: str) -> bool:
    """A need put as a question ("do you ship to Germany?"), not a fact told or a detail
    given ("12 Nov £49.99 and 14 Nov £120")."""
    return any(_asks(s) for s in sentences(text))


def asks_something(text: str) -> bool:
    """The message may ask for something: not only greetings, thanks, "that didn't help" or a
    bare detail such as an order number (a sentence of two words or more that is not chatter).
    Loose on purpose: a real question it missed would make the traffic look more out of scope
    than it is."""
    return any(
        not is_chatter(sentence) and len(re.findall(r"[A-Za-z]{2,}", sentence)) >= 2
        for sentence in sentences(text)
    )


def tells_something(reply: str) -> bool:
    """An agent's reply that tells the customer something, worth learning as an answer: a
    sentence of two words or more (after a greeting) that is not chatter, courtesy, a holding
    line ("let me check", "I'll get back to you") or a question back. Not "Hello, Alice here.
    How can I help?" or "Could you send me your order number?"; "It's free." is."""
    return any(_tells(sentence) for sentence in sentences(reply))


def promises_follow_up(reply: str) -> bool:
    """An agent's reply that promises to come back to the customer later: "I'll check with
    the warehouse and get back to you", "We will email you the label tomorrow". Not when a
    later sentence gives the answer ("Let me check. It shipped yesterday."), nor a promise on
    a condition ("If it hasn't come by Friday, I'll raise a claim")."""
    found = sentences(reply)
    promised = [
        i
        for i, sentence in enumerate(found)
        if _PROMISE.search(sentence) and not _CONDITION.match(sentence)
    ]
    return bool(promised) and not any(_answers(s) for s in found[promised[-1] + 1 :])


def asks_customer(reply: str) -> bool:
    """An agent's reply that asks the customer for something: a question ("Could you send me
    your order number?", "Which size was it?") or a request for a detail ("Please confirm your
    postcode.", "Let me know the colour."). Not the courtesy "Is there anything else I can help
    with?" alone."""
    for sentence in sentences(reply):
        rest = _ANYTHING_ELSE.sub(" ", sentence)  # "If that works for you, please confirm…"
        said = len(re.findall(r"[A-Za-z]{2,}", rest))
        if (rest.rstrip().endswith("?") and said >= 2) or _ASKS_FOR_DETAIL.search(rest):
            return True
    return False


def _answers(sentence: str) -> bool:
    """A sentence after a promise that gives the answer itself ("It shipped yesterday and
    arrives on Friday."), not a sign-off ("Sorry for the wait.", "Speak soon.")."""
    words = re.findall(r"\w+", sentence)
    substantial = len(words) >= 6 or bool(re.search(r"\d", sentence))
    return _tells(sentence) and not _SIGN_OFF.match(sentence) and substantial


def _tells(sentence: str) -> bool:
    if is_chatter(sentence) or sentence.endswith("?"):
        return False
    rest = _LEADING_CHATTER.sub("", sentence)  # "Hello, Alice here." is "Alice here."
    holding = _HOLDING.search(sentence) or _HOLDING.search(rest)
    return not holding and len(re.findall(r"\w+", rest)) >= 2


def _is_detail(sentence: str) -> bool:
    """A plain sentence that says more about the need before it."""
    return not (is_chatter(sentence) or is_venting(sentence)) and _words(sentence) >= 4


def needs_in(message: Message) -> list[Need]:
    """The needs one customer message raises; plain sentences after a need join it."""
    found: list[list[str]] = []
    for sentence in sentences(message.text):
        if is_need(sentence):
            found.append([sentence])
        elif found and _is_detail(sentence):
            found[-1].append(sentence)
    return [Need(_LEADING_CHATTER.sub("", " ".join(parts)), message.id) for parts in found]


@dataclass
class _Ledger:
    open: list[Need]
    answered: list[Need]  # what the latest reply that closed anything closed
    rejectable: list[Need]  # what the latest answer closed (a rejection reopens it)
    raised: list[Need]  # since the latest reply
    last: Kind | None = None  # the kind of the latest public message
    previous: int = 0  # the customer's latest message


def _add_details(ledger: _Ledger, message: Message) -> None:
    """A message that only says more ("The courier threw it over the fence.") joins a
    statement of need that ended the customer's previous message."""
    details = [s for s in sentences(message.text) if _is_detail(s)]
    need = ledger.open[-1] if ledger.open else None
    if not details or need is None or need.message_id != ledger.previous:
        return
    if need.text.endswith("?"):
        return
    longer = Need(" ".join([need.text, *details]), need.message_id)
    ledger.open[-1] = longer
    ledger.raised = [longer if n == need else n for n in ledger.raised]


def without_courtesy(history: Sequence[Message]) -> list[Message]:
    """``history`` without its courtesy turns: a customer's greeting, thanks or "ok" and the
    bot's line that answered it (``Kind.COURTESY``) change nothing a reply or a rejection is
    read against ("that didn't help" after them still rejects the answer before)."""
    if not any(m.kind is Kind.COURTESY for m in history):
        return list(history)
    return [
        m
        for m in history
        if m.kind is not Kind.COURTESY
        and not (m.kind is Kind.CUSTOMER and courtesy(m.text) is not None)
    ]


def last_reply(history: Sequence[Message]) -> Message | None:
    """The last public message the customer was told, courtesy turns left out."""
    replies = [m for m in without_courtesy(history) if not m.internal]
    return next((m for m in reversed(replies) if m.kind is not Kind.CUSTOMER), None)


def _read(history: Sequence[Message]) -> _Ledger:
    ledger = _Ledger([], [], [], [])
    for message in without_courtesy(history):
        if message.internal:
            continue
        if message.kind is Kind.CUSTOMER:
            if ledger.last is Kind.ANSWER and NOT_HELPFUL.search(message.text):
                reopened = [n for n in ledger.rejectable if n not in ledger.open]
                ledger.open.extend(reopened)
                ledger.raised.extend(reopened)
            new = needs_in(message)
            if not new and ledger.last is Kind.CUSTOMER:
                _add_details(ledger, message)
            ledger.open.extend(new)
            ledger.raised.extend(new)
            ledger.previous = message.id
        elif message.kind is Kind.ANSWER:
            closed = set(ledger.raised)
            ledger.rejectable = [n for n in ledger.open if n in closed]
            ledger.answered = ledger.rejectable or ledger.answered
            ledger.open = [n for n in ledger.open if n not in closed]
            ledger.raised = []
        elif message.kind in (Kind.AGENT_MESSAGE, Kind.RESOLVED):
            ledger.answered = ledger.open or ledger.answered
            ledger.open, ledger.raised, ledger.rejectable = [], [], []
        else:  # a notice or a reply while waiting: closes nothing, but a later answer replies
            ledger.raised = []  # only to what was asked after it
        ledger.last = message.kind
    return ledger


def open_needs(history: Sequence[Message]) -> tuple[Need, ...]:
    """The customer's needs no reply has closed, oldest first."""
    return tuple(_read(history).open)


def asked(history: Sequence[Message]) -> tuple[Need, ...]:
    """What the customer is waiting on: the open needs, else (they asked for a person after
    an answer, say) the needs the latest reply closed."""
    ledger = _read(history)
    return tuple(ledger.open or ledger.answered)


def waits_on_latest_answer(history: Sequence[Message]) -> bool:
    """Whether what the customer is waiting on is what the bot's latest answer closed: they
    said it did not help, or asked for a person after it, and asked nothing new since."""
    ledger = _read(history)
    waiting = ledger.open or ledger.answered
    return bool(waiting) and all(n in ledger.rejectable for n in waiting)


def question_of(history: Sequence[Message]) -> str:
    """The customer's question in their words, for learning: what they are waiting on, with
    greetings, venting and "that didn't help" left out. When no sentence reads as a need (a
    terse "close freemiumaccount"), their plain sentences since the latest reply; empty when
    they asked nothing."""
    found = " ".join(n.text for n in asked(history)) or " ".join(_plain_since_reply(history))
    return clip(found, QUESTION_CHARS, "")


def _plain_since_reply(history: Sequence[Message]) -> list[str]:
    """The customer's sentences since the latest reply that are neither chatter nor venting."""
    since: list[Message] = []
    for message in reversed(history):
        if message.kind is not Kind.CUSTOMER:
            if message.internal:
                continue
            break
        since.insert(0, message)
    return [
        s
        for m in since
        for s in sentences(m.text)
        if _words(s) >= 2 and not (is_chatter(s) or is_venting(s))
    ]


def goal(history: Sequence[Message]) -> str:
    """The customer's main need over the conversation, with its specifics: the earliest open
    need (why they came; later chit-chat or venting never replaces it), joined by the next one
    when it only announced what follows ("I want to make a formal complaint."). Without open
    needs, the latest need; without needs, their most substantial sentence."""
    ledger = _read(history)
    chosen = ledger.open or ledger.answered
    if chosen:
        first = chosen[0]
        text = first.text
        if len(chosen) > 1 and _announces(first, chosen[1], history):
            text = f"{text} {chosen[1].text}"
        return clip(text, GOAL_CHARS)
    said = [s for m in history if m.kind is Kind.CUSTOMER for s in sentences(m.text)]
    plain = [s for s in said if not is_chatter(s)]
    best = max(plain or said, key=_words, default="(no message yet)")
    return clip(best, GOAL_CHARS)


def _announces(first: Need, second: Need, history: Sequence[Message]) -> bool:
    """The first need is a statement without specifics, and the customer's very next message
    gives them."""
    if first.text.endswith("?") or _ANNOUNCES.search(first.text) or _words(first.text) > 10:
        return False
    customer = [m.id for m in history if m.kind is Kind.CUSTOMER]
    later = [i for i in customer if i > first.message_id]
    return second.message_id == first.message_id or bool(later and later[0] == second.message_id)


def needs_to_look_up(history: Sequence[Message]) -> tuple[str, ...]:
    """What the engine searches the knowledge base for: the goal, then the other open needs,
    at most ``MAX_LOOKUPS``."""
    if not any(m.kind is Kind.CUSTOMER for m in history):
        return ()
    main = goal(history)
    others = [n.text for n in open_needs(history) if n.text not in main]
    return tuple(dict.fromkeys([main, *others]))[:MAX_LOOKUPS]
