"""Calm words: a problem said to be solved ("that did the trick"), a customer who says they are
not upset ("not annoyed at all, just checking") and calm acceptance of bad news ("ah that's a
shame but fair enough") settle a conversation; a question about what happens in a case ("if we
cancel, do we lose the deposit?") reads calm but settles nothing. The heads read "angry" in
"not angry", disappointment in "a shame" and the bad case in the question; these precise
patterns read what the words say, and refuse when the words are denied, asked, scoffed at or
turned ("but…"), or, for a disclaimer, an acceptance or a question about a case, when something
else in the message is upset. The reader checks the rest of the message too (``calm_rest``,
``solved_rest``).
"""

from __future__ import annotations

import bisect
import functools
import re
from typing import NamedTuple

from bot.phrases import (
    ASKING,
    NOT_HELPFUL,
    REPEAT_CONTACT,
    lexical_frustration,
    plain,
    shouting,
)

# The customer says the problem is solved or explained: "it's working now", "that did the
# trick", "ah that explains it", "makes sense now", "it's just come through", "all good", "my
# bad", "panic over". Not "fine" or "ok" alone, which resignation says too ("its fine. forget
# it"), nor "never mind" ("never mind, I'll go elsewhere").
# The start of a clause, or after an opener of it ("ah my mistake", "oh my bad").
_OPENING = (
    r"(?:^|(?<=[.!?,;:\n])|(?<=[.!?,;:]\s)|(?<=\bah\s)|(?<=\boh\s)|(?<=\bok\s)|"
    r"(?<=\bokay\s)|(?<=\bsorry\s)|(?<=\bright\s)|(?<=\byes\s)|(?<=\byep\s))"
)
RESOLVED = re.compile(
    # "that fixed it" before "that fixed", which would leave "it" after the phrase.
    r"\b(?:(?:that|it|this|which|link|code|reset|fix)\s+(?:worked|did\s+it|did\s+the\s+trick|"
    r"solves\s+it|resolves\s+it)|"
    r"(?:that|it|this|which|link|code|reset|fix)(?:'s|s|\s+has)?\s+(?:fixed|sorted)\s+it"
    r"(?:\s+out)?|"
    r"(?:it|that|this|everything|all)(?:'s|s|\s+is|\s+has\s+been)?\s+(?:all\s+)?"
    r"(?:working|sorted|fixed|resolved)|(?:working|works)\s+(?:now|again)|"
    r"makes?\s+sense|explains\s+(?:it|that|everything)|all\s+good|"
    r"(?:has|'s|just|finally|now|all)\s+(?:arrived|turned\s+up|come\s+through|gone\s+through|"
    r"went\s+through|shown\s+up|showed\s+up|appeared|landed)|(?:came|come)\s+through|"
    r"turned\s+up|(?:got|i'm|im|i\s+am|logged|signed)\s+back\s+in|"
    # The customer's own slip, or a scare that is over: "my bad" or "my mistake" opening its
    # clause (not "your colleague said it was my mistake"), "panic over", and "ignore me"
    # opening the message (not "you keep telling me to ignore my last message", "fine, ignore
    # me", "just ignore me then"). Not "my fault" ("so it's my fault now") nor "found it"
    # ("found it. took me 3 hours").
    rf"{_OPENING}my\s+(?:bad|mistake|error)|(?:^|(?<=\bjust\s)|(?<=\bplease\s))"
    r"ignore\s+(?:me|my\s+(?:last\s+)?message)(?!\s+then)|"
    r"panic\s+over|false\s+alarm|no\s+harm\s+done|"
    # An apology for the bother, closing its clause: "sorry for the fuss!" (not "sorry for the
    # trouble but…").
    r"(?:sorry|apologies)\s+for\s+(?:the|all\s+the|any)\s+(?:bother|fuss|trouble|confusion|"
    r"hassle))\b",
    re.IGNORECASE,
)
# Before the phrase, in its clause: a negation or a condition ("it hasnt come through", "none
# of this makes sense", "let me know if it has come through").
_UNSETTLED_BEFORE = re.compile(
    r"\b(?:not|never|no|none|nothing|nobody|still|hardly|barely|if|when|whether|until|unless|"
    r"once|"
    r"dont|didnt|doesnt|hasnt|havent|isnt|wasnt|werent|aint|cant|couldnt|wont|wouldnt)\b|n't\b",
    re.IGNORECASE,
)
# Its clause, or the one before, is nothing but a scoff ("sure, my bad", "yeah right, that
# explains it"); "of course" is as often sincere ("oh of course, that makes sense now").
_SCOFFED = re.compile(
    r"^\W*(?:(?:oh|ok|yeah)\s+)?(?:sure|yeah\s+right|whatever)\W*$", re.IGNORECASE
)
# After it, in its clause, only these may follow ("it's come through now, thanks"); anything
# else says what the phrase is about ("has arrived damaged", "got back in touch").
_CLOSING_WORDS = frozenset(
    "now again at last finally today yesterday this morning then too thanks thank you cheers "
    "ta lol haha x".split()
)
# Anywhere after it: there is more to it ("but…", "no thanks to you", "elsewhere", a question,
# a bare "again" at the end).
_MORE_TO_IT = re.compile(
    r"\b(?:but|still|however|though|although|tho|except|yet|elsewhere|no\s+thanks)\b|\?"
    r"|[.!?,;:]\s*again\W*$",  # "panic over. again": a bare "again" closing the message
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[.!?;,\n]")
# Characters of a clause read on either side of a phrase: bounded, so that a long message of
# many phrases reads in linear time.
CLAUSE_LOOK_BACK = 200
# The customer says in so many words that they are not upset: "not annoyed at all, just
# checking", "honestly not cross about it", "it's not a complaint as such", "no hard feelings".
_FEELING = (
    r"(?:angry|cross|upset|annoyed|irritated|frustrated|mad|bothered|fussed|complaining|"
    r"moaning|having\s+a\s+go|a\s+complaint|tired|exhausted|stressed|gutted|livid|fuming|"
    r"fed\s+up|sick|worn\s+out|disappointed|unhappy)"
)
# Low stakes, said of the matter: "not a big deal", "no rush", "not urgent", "just flagging
# it". Not "just letting you know" or "just a heads up", which announce what follows.
_LOW_STAKES = (
    r"\b(?:not\s+(?:a\s+(?:big|huge|massive)\s+deal|urgent|grumbling)|no\s+(?:big\s+deal|rush|"
    r"hurry|stress|biggie)|just\s+(?:flagging|mentioning))\b"
)
DISCLAIMED = re.compile(
    r"(?:\bnot|\bnever|\b(?:is|was|are|were|do|does|did|have|has|had|ai|ca|wo|could|would|"
    r"should)n[o']?t)\s+(?:(?:at\s+all|really|even|that|too|remotely|"
    r"particularly|overly|actually|honestly|in\s+the\s+least)\s+)?" + _FEELING + r"\b"
    r"|\bno\s+(?:complaints?|hard\s+feelings)\b|" + _LOW_STAKES,
    re.IGNORECASE,
)
_LOW_STAKES_SAID = re.compile(_LOW_STAKES, re.IGNORECASE)
# Low stakes said in sarcasm or beside a grievance, when no feeling is disclaimed too: "no
# rush, it's only been three weeks", "no rush lol, been waiting 3 weeks", "not urgent, just my
# whole heating system is down", "no hurry, I'll just cancel", "just flagging that nobody has
# replied", "it's not a big deal, is it?", "no rush on the reply" after asking why.
_STAKES_TURNED = re.compile(
    r"\b(?:only|still|yet|even|already|why|been|lol|haha|cancel\w*|review|nobody|no\s+one|no-one|"
    r"whole|(?:\d+|a|an|one|two|three|four|five|six|several|few)\s+(?:minutes?|mins?|hours?|"
    r"hrs?|days?|weeks?|months?))\b|,\s*(?:is|was|does|did)\s+it\s*\?",
    re.IGNORECASE,
)
_FEELING_WORD = re.compile(r"\b" + _FEELING + r"\b", re.IGNORECASE)
# After a calm phrase, these turn it into a preface ("I'm not angry, but this is a joke").
_TURNED_AFTER = re.compile(
    r"\b(?:but|however|though|although|tho|except|yet|that\s+said|having\s+said)\b", re.IGNORECASE
)
# The customer accepts bad news or an explanation: "fair enough", "no worries", "that's fine",
# "understood", "not your fault", "these things happen", "I'll wait".
ACCEPTED = re.compile(
    r"\b(?:fair\s+enough|no\s+worries|no\s+problem|not\s+(?:your|anyone'?s)\s+fault|"
    r"nobody'?s\s+fault|these\s+things\s+happen|understood|understandable|"
    r"(?:that'?s|that\s+is|thats)\s+(?:fine|ok|okay|alright|all\s+right)|"
    r"(?:i'?ll|ill|i\s+will|we'?ll|happy\s+to)\s+wait)\b",
    re.IGNORECASE,
)
# Words of resignation that turn calm words into giving up ("not fussed. whatever", "no
# problem, I'll take my custom elsewhere", "sure, that's fine. thanks for nothing").
# Of those, the words that make a solved problem grudging too ("I suppose it's my mistake
# then", "it's working now, as usual"); not "whatever" ("whatever you did, it's working now").
_GRUDGED_WORDS = r"suppose|guess|apparently|as\s+usual|thanks\s+a\s+lot|for\s+nothing"
_RESIGNED = re.compile(
    rf"\b(?:{_GRUDGED_WORDS}|whatever|elsewhere|somewhere\s+else)\b", re.IGNORECASE
)
_GRUDGED = re.compile(rf"\b(?:{_GRUDGED_WORDS})\b", re.IGNORECASE)
# Words that make acceptance sarcastic or grudging ("fine, I'll wait in again", "another three
# weeks, no problem", "that's fine, great service"), though a disclaimer may hold them sincerely
# ("not complaining at all, the service was great").
_GRUDGING = re.compile(
    r"\b(?:again|another|not\s+like|of\s+course|obviously|anyway|or\s+anything|great|lovely|"
    r"brilliant)\b",
    re.IGNORECASE,
)

# A question about a case: a condition in it, a sentence that asks, and what turns it from
# planning into a complaint ("why would I pay if…", "if it still doesn't work…", "if this is
# how you treat customers, do you expect me to stay?", "who do I complain to if…").
_CONDITION = re.compile(r"\b(?:if|in\s+case|worst\s+case)\b", re.IGNORECASE)
# "if" that asks whether ("wondering if you could") or asks politely ("if possible", "if you
# don't mind me asking", "as if"): no case to plan for.
_WHETHER_BEFORE = re.compile(
    r"\b(?:wonder\w*|know|ask\w*|see|check\w*|sure|confirm|tell\s+me|find\s+out|unsure|as)\W*$",
    re.IGNORECASE,
)
# After the "if": politeness, not a case.
_POLITE_AFTER = re.compile(
    r"\W*(?:possible|at\s+all|you\s+(?:can|could|like|please|don'?t\s+mind|wouldn'?t\s+mind|"
    r"have\s+(?:time|a\s+moment))|that'?s\s+(?:ok|okay|alright|all\s+right|fine))\b"
    r"(?!['’]t)",  # "if you can't deliver by friday, can I cancel?" is a case
    re.IGNORECASE,
)
# A sentence that asks without a question mark: it opens as a question (a verb and its subject,
# or "what", "where", "which"), or puts a verb before its pronoun somewhere ("if we bail do we
# get our money back", "worst case, if we call it off in may what do we lose"). Not "would have
# been nice if…" (a verb without its subject) nor "if this is the service I get…": they state.
_ASKS = re.compile(
    r"^\W*(?:do|does|did|can|could|will|would|is|are|am|should|shall|may)\s+(?:i|we|you|they|"
    r"he|she|it|my|our|the|this|there)\b|^\W*(?:what|whats|where|which)\b|"
    r"\b(?:do|does|can|could|will|would|should|am)\s+(?:i|we|you|they)\b|"
    r"\bwhat\s+(?:do|does|will|would|happens)\b|\bhow\s+(?:much|long|many)\b",
    re.IGNORECASE,
)
# A sentence ends at ".", "!" or "?" before a space or the end ("£49.99" goes on), or a line.
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?](?=[^\s.!?]))+[.!?]*\n?")
# Rhetoric and what says the case is not hypothetical: "why", "still", "either", "even",
# "actually", "who do I complain to", "what am I paying for".
_NOT_PLANNING = re.compile(
    r"\b(?:why|still|either|even|actually|finally|expect|supposed\s+to|seriously|complain\w*|"
    r"paying\s+for|point|bother|fair|joke|review|last\s+time|is\s+(?:this|that)\s+how|"
    r"how\s+you\s+treat|are\s+you\s+(?:kidding|joking|serious))\b",
    re.IGNORECASE,
)


def _clause_ends(text: str) -> list[int]:
    """Where each clause of ``text`` ends: the positions of its ``.!?;,`` and line breaks."""
    return [m.start() for m in _CLAUSE_END.finditer(text)]


def _clause_around(ends: list[int], length: int, start: int, end: int) -> tuple[int, int]:
    """The clause holding the phrase at ``start:end``: where it starts, and where it ends (the
    position of its closing mark, or ``length``)."""
    at = bisect.bisect_left(ends, start)
    after = bisect.bisect_left(ends, end)
    return ends[at - 1] + 1 if at else 0, ends[after] if after < len(ends) else length


def _nothing_else_upset(text: str) -> bool:
    """No negative word, rejected answer, counted contact, word of resignation, shouting or run
    of "!!"/"??"."""
    return not (
        lexical_frustration(text)
        or NOT_HELPFUL.search(text)
        or REPEAT_CONTACT.search(text)
        or _RESIGNED.search(text)
        or shouting(text)
        or re.search(r"[!?]{2,}", text)
    )


def _said_plainly(text: str, start: int, end: int) -> bool:
    """The calm phrase at ``start:end`` is said, not asked, denied or stressed: its clause has
    no negation or condition before it ("I don't think that's fine", "if that's ok") and does
    not end in a question ("that's fine?", "how am I not angry?"), no word of it is in capitals
    ("I'm NOT angry"), and no "but…" follows it."""
    clause_start, clause_end = _clause_around(_clause_ends(text), len(text), start, end)
    denied = _UNSETTLED_BEFORE.search(text, clause_start, start)
    asked = clause_end < len(text) and text[clause_end] == "?"
    stressed = re.search(r"\b[A-Z]{2,}\b", text[start:end])  # "I'm NOT angry", "that's FINE"
    return not (denied or asked or stressed or _TURNED_AFTER.search(text, end))


@functools.lru_cache(maxsize=64)  # a message is read several times in a turn
def accepts(text: str) -> bool:
    """The customer accepts bad news or an explanation ("ah that's a shame but fair enough,
    I'll take the later slot"), said plainly (``_said_plainly``), with no word of resignation
    or sarcasm ("again", "I suppose", "another", "great") and nothing else upset."""
    text = plain(text)
    found = ACCEPTED.search(text)
    if found is None or _GRUDGING.search(text):
        return False
    return _said_plainly(text, *found.span()) and _nothing_else_upset(text)


@functools.lru_cache(maxsize=64)  # a message is read several times in a turn
def disclaims(text: str) -> bool:
    """The customer says they are not upset ("not annoyed at all, just checking", "no hard
    feelings", "it's not a complaint as such"), said plainly (``_said_plainly``), and nothing
    else in the message says otherwise: every feeling word in it is disclaimed ("I'm not
    angry, I'm just tired" is not), and nothing else upset."""
    text = plain(text)
    spans = [m.span() for m in DISCLAIMED.finditer(text)]
    if not spans or not _said_plainly(text, *spans[0]):
        return False
    only_stakes = all(_LOW_STAKES_SAID.fullmatch(text, a, b) for a, b in spans)
    if only_stakes and (_STAKES_TURNED.search(text) or _GRUDGING.search(text)):
        return False
    starts = [a for a, _ in spans]
    for word in _FEELING_WORD.finditer(text):
        at = bisect.bisect_right(starts, word.start()) - 1
        if at < 0 or word.start() >= spans[at][1]:
            return False  # a feeling word no disclaimer holds
    return _nothing_else_upset(text)


def _what_if_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Each sentence of ``text`` that asks what happens in a case ("if we cancel, do we lose
    the deposit?", "what if I'm an hour late?"): it asks (ends in "?" or reads as a question,
    ``_ASKS``) and holds a condition ("if", "in case", "worst case"; not "wondering if", which
    asks whether, nor "if possible", which asks politely)."""
    spans = []
    for sentence in _SENTENCE.finditer(text):
        start, end = sentence.span()
        said = sentence.group(0)
        if not (said.rstrip().endswith("?") or _ASKS.search(said)):
            continue
        if any(
            not _WHETHER_BEFORE.search(text[max(start, found.start() - 30) : found.start()])
            and not _POLITE_AFTER.match(text, found.end())
            for found in _CONDITION.finditer(text, start, end)
        ):
            spans.append((start, end))
    return tuple(spans)


@functools.lru_cache(maxsize=64)  # a message is read several times in a turn
def what_if_questions(text: str) -> tuple[tuple[int, int], ...]:
    """Where ``text`` (plain) asks what happens in a case, calmly: the sentences of
    ``_what_if_spans``, none when anything says the case is not hypothetical or the customer
    is upset ("why", "still", "again", "either", "even", "actually", rhetoric, a word of
    sarcasm or resignation, a negative word, shouting, "!!")."""
    if _NOT_PLANNING.search(text) or _GRUDGING.search(text) or not _nothing_else_upset(text):
        return ()
    return _what_if_spans(text)


def asks_what_if(text: str) -> bool:
    """The customer asks what happens in a case ("if the weather's bad and you cancel, do we get
    a refund?", ``what_if_questions``): planning, not reacting to something gone wrong, though
    the head reads the bad case in it. It caps the message's own level, and never settles a
    conversation: a customer upset earlier may ask one ("what happens if it doesn't come
    tomorrow?")."""
    return bool(what_if_questions(plain(text)))


def calm_words(text: str) -> bool:
    """The customer disclaims being upset, accepts calmly or asks what happens in a case
    (``disclaims``, ``accepts``, ``asks_what_if``): words that read calm. Only the first two
    settle a conversation (``bot.signals.settled``)."""
    return disclaims(text) or accepts(text) or asks_what_if(text)


def calm_rest(text: str) -> str | None:
    """The message without its calm words (``calm_words``) or the questions about a case: what
    the frustration head reads to check that the rest of the message is calm too ("that's
    fine, I'll do a chargeback" is not). None when it has none."""
    if not calm_words(text):
        return None
    text = plain(text)
    for start, end in reversed(what_if_questions(text)):
        text = f"{text[:start]} {text[end:]}"
    rest = ACCEPTED.sub(" ", DISCLAIMED.sub(" ", text))
    return _tidy(rest)


REST_WORDS = 3  # fewer words are a lead-in, which the head reads as calm whatever it says


def solved_rest(text: str) -> str | None:
    """The clauses before the one that closes the message on words that say the problem is
    solved ("the van got stuck behind a bin lorry. all good" → "the van got stuck behind a bin
    lorry"): what the frustration head reads to tell a customer telling what went wrong from
    an upset one. None when no solving phrase closes the message ("it's working now. took you
    long enough"), or fewer than ``REST_WORDS`` words come before its clause."""
    text = plain(text)
    spans = _solved_spans(text)
    if not spans or not _only_closing_words(text, spans[-1].clause_end, len(text)):
        return None
    # What the customer told before the clause that closes it: whole clauses, not the lead-in
    # of the closing one ("so it's" of "so it's all sorted now").
    rest = _tidy(text[: spans[-1].clause_start])
    return rest if len(re.findall(r"\w+", rest)) >= REST_WORDS else None


def _tidy(rest: str) -> str:
    return re.sub(r"\s+", " ", rest).strip(" ,.;-")


def _only_closing_words(text: str, start: int, end: int) -> bool:
    """Nothing but closing words ("now", "thanks", "cheers"), marks and emoji in
    ``text[start:end]``."""
    return set(re.findall(r"[a-z']+", text[start:end].lower())) <= _CLOSING_WORDS


def resolved(text: str) -> bool:
    """The customer says the problem is solved or explained ("ah, that explains it", "it's
    come through now"): a phrase for it that ends its clause (nothing but "now", thanks or the
    like after it), in a clause that does not ask and has no negation, condition or scoffing
    opener before it ("it hasnt come through", "has it come through", "let me know if it has
    come through", "sure, my bad"), and nothing later that says there is more ("but…", "no
    thanks to you", a question)."""
    return bool(_solved_spans(plain(text)))


def _scoffed(text: str, ends: list[int], clause_start: int, start: int) -> bool:
    """The clause before the phrase, or its own clause up to it, is nothing but a scoff."""
    before_start = _clause_around(ends, len(text), clause_start - 1, clause_start - 1)[0]
    earlier = text[before_start : clause_start - 1] if clause_start else ""
    return bool(_SCOFFED.match(text[clause_start:start]) or _SCOFFED.match(earlier))


class _Solved(NamedTuple):
    """A solving phrase that holds, and the clause it ends."""

    clause_start: int
    clause_end: int


@functools.lru_cache(maxsize=64)  # read for the rest and again to settle the turn
def _solved_spans(text: str) -> tuple[_Solved, ...]:
    """Each solving phrase that holds (``resolved``), in order."""
    if _GRUDGED.search(text):  # "I suppose it's my mistake then"
        return ()
    more = [m.start() for m in _MORE_TO_IT.finditer(text)]
    last_more = more[-1] if more else -1
    ends = _clause_ends(text)
    spans: list[_Solved] = []
    for match in RESOLVED.finditer(text):
        if last_more >= match.end():
            continue
        clause_start, clause_end = _clause_around(ends, len(text), *match.span())
        window = max(clause_start, match.start() - CLAUSE_LOOK_BACK)
        if (
            _UNSETTLED_BEFORE.search(text, window, match.start())
            or _scoffed(text, ends, clause_start, match.start())
            or ASKING.match(text, clause_start, match.start())
        ):
            continue
        if clause_end - match.end() > CLAUSE_LOOK_BACK:
            continue  # far more than "now, thanks" follows it in its clause
        if _only_closing_words(text, match.end(), clause_end):
            spans.append(_Solved(clause_start, clause_end))
    return tuple(spans)
