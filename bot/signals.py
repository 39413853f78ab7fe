"""Read signals from a customer's words: a request for a person, a complaint, frustration,
and sensitive topics. Pure functions over text; no model is needed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from bot.model import Signals

_PERSON = (
    r"(?:human(?:\s+(?:being|agent|operator|rep(?:resentative)?))?|real\s+person|(?:a|one)\s+person|"
    r"live\s+(?:agent|person|chat\s+agent)|some\s?b\w*dy|some\s?\w{0,2}one|agents?|operat\w*|"
    r"representative|rep|staff(?:\s+member)?|employee|supervisor|manager|(?<!virtual\s)assistant|"
    r"people)"
)
_CONTACT = (
    r"(?:talk\w*|speak\w*|chat\w*|chay|contact\w*|connect\w*|direct|transfer\w*|"
    r"put\s+me\s+through|get|getting|reach|reaching|call|calling|escalate|need|want|"
    r"give\s+me|let\s+me\s+talk|communicate|communicating|get\s+in\s+touch)"
)
HUMAN_REQUEST = re.compile(
    rf"\b{_CONTACT}\b(?:\W+\w+){{0,4}}?\W+{_PERSON}\b"
    r"|\b(?:human|real\s+person|live\s+agent|operator|representative)\s*(?:please|pls|now|!|\?|$)"
    r"|\bare\s+you\s+(?:a\s+)?(?:bot|robot|machine|human|real)\b"
    r"|\b(?:not|no)\s+(?:a\s+)?(?:bot|robot|machine)\b",
    re.IGNORECASE,
)
COMPLAINT = re.compile(
    r"\b(?:complain\w*|complaint\w*|recla\w*|grievance\w*|claim\s+against|consumer\s*claim|"
    r"(?:lodge|file|make|making)\w*\s+(?:an?\s+)?(?:consumer\s*)?(?:recl\w+|c\w?aim|clain)|"
    r"(?:make|making|file|filing|lodge|lodging|submit|submitting|open|opening|raise|raising)\s+"
    r"(?:an?\s+|my\s+|the\s+)?(?:\w+\s+){0,2}claims?\b|consumer\s+claim|"
    r"(?:dis)?satisfied\s+with|unhappy\s+with|not\s+(?:happy|satisfied)\s+with|"
    r"disappointed\s+(?:with|by|in)|(?:bad|poor|terrible|awful|horrible)\s+(?:service|experience))",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"\b(?:ridiculous|unacceptable|useless|pathetic|terrible|awful|horrible|worst|disgust\w*|"
    r"furious|angry|annoy\w*|frustrat\w*|fed\s+up|sick\s+of|tired\s+of|hate|stupid|idiot\w*|"
    r"incompetent|joke|scam|rip\s*-?\s*off|waste\s+of|nonsense|rubbish|garbage|crap|damn\w*|"
    r"hell|wtf|bloody|fuck\w*|shit\w*|sucks?|disappoint\w*|unbelievable|outrage\w*|"
    r"never\s+again|not\s+(?:good|okay|ok|acceptable|helpful)|doesn'?t\s+help|didn'?t\s+help|"
    r"(?:does|did|do)\s*n[o']?t\s+(?:answer|work)|no\s+help|still\s+(?:waiting|not|no|nothing|haven'?t)|"
    r"(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th))\s+time|again\?|how\s+many\s+times|"
    r"what\s+the|seriously|come\s+on|wrong|bad|poor|lousy|shame\w*|lie|lied|lying)\b",
    re.IGNORECASE,
)
NOT_HELPFUL = re.compile(
    r"\b(?:(?:that|this|it|you)\s+(?:did\s*n[o']?t|does\s*n[o']?t|do\s*n[o']?t|is\s*n[o']?t|was\s*n[o']?t)"
    r"\s+(?:help\w*|answer\w*|work\w*|what\s+i\s+(?:asked|meant|need\w*))|not\s+(?:what\s+i\s+"
    r"(?:asked|meant|need\w*)|helpful|my\s+question)|(?:wrong|useless|unhelpful)\s+answer|"
    r"you(?:'re|\s+are)\s+not\s+(?:listening|understanding)|read\s+my\s+question|"
    r"i\s+(?:already|just)\s+(?:said|told|asked)|same\s+(?:answer|thing)\s+again)\b",
    re.IGNORECASE,
)
_CALM = re.compile(
    r"\b(?:thanks?|thank\s+you|great|perfect|awesome|appreciate\w*|love)\b", re.IGNORECASE
)

DEFAULT_SENSITIVE_TOPICS: dict[str, str] = {
    "legal": r"\b(?:lawyer|attorney|solicitor|sue|suing|lawsuit|legal\s+action|court|tribunal|"
    r"ombudsman|trading\s+standards)\b",
    "fraud": r"\b(?:fraud\w*|scam\w*|stolen\s+card|identity\s+theft|unauthori[sz]ed\s+"
    r"(?:charge|payment|transaction)s?|hacked|phishing)\b",
    "safety": r"\b(?:injur\w*|hurt|burn(?:ed|t)?|fire|smok(?:e|ing)|electric\s+shock|choking|"
    r"allerg\w*|hospital|dangerous|unsafe|recall)\b",
    "personal_data": r"\b(?:gdpr|data\s+(?:subject\s+)?(?:access\s+)?request|delete\s+my\s+data|"
    r"my\s+personal\s+data|right\s+to\s+be\s+forgotten|what\s+data\s+do\s+you\s+(?:have|hold))\b",
    "contract_cancel": r"\b(?:cancel\s+(?:my\s+)?(?:contract|subscription|membership|account)|"
    r"terminate\s+(?:my\s+)?(?:contract|subscription|membership))\b",
}


def frustration(text: str) -> float:
    """How frustrated one message sounds, from 0 (calm) to 1 (very).

    Counts negative and hostile words, repeated-contact phrases ("third time"), shouting in
    capitals and runs of ``!``/``?``; thanks and praise pull the score down.
    """
    words = re.findall(r"[A-Za-z']+", text)
    if not words:
        return 0.0
    score = 0.35 * len(_NEGATIVE.findall(text))
    letters = [c for c in text if c.isalpha()]
    shouted = sum(1 for w in words if len(w) >= 3 and w.isupper())
    if letters and shouted >= 2 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        score += 0.4
    score += 0.15 * min(3, len(re.findall(r"[!?]{2,}", text)))
    score += 0.1 * min(3, text.count("!"))
    score -= 0.3 * len(_CALM.findall(text))
    return max(0.0, min(1.0, score))


def compile_topics(
    patterns: Mapping[str, str], enabled: Iterable[str]
) -> dict[str, re.Pattern[str]]:
    """Compile the enabled sensitive topics (names without a pattern are ignored)."""
    return {name: re.compile(patterns[name], re.IGNORECASE) for name in enabled if name in patterns}


def read_signals(text: str, topics: Mapping[str, re.Pattern[str]]) -> Signals:
    """All signals for one customer message."""
    return Signals(
        human_request=bool(HUMAN_REQUEST.search(text)),
        complaint=bool(COMPLAINT.search(text)),
        frustration=frustration(text),
        sensitive_topics=tuple(name for name, pattern in topics.items() if pattern.search(text)),
    )
