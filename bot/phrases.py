"""Precise, general patterns of customer wording: an explicit ask for a person, a complaint, an
answer rejected in so many words ("that didn't help"), counting contacts ("third time"), help no
longer needed, words that turn thanks, shouting and, for when no heads are loaded, a small
lexicon of general negative words. No pattern is fitted to a dataset's wording.
"""

from __future__ import annotations

import re

_MODAL = r"(?:can|could|would|will|may)"
# What a person is asked to do on the case ("look", "give me a ring", "walk me through").
_ACT = (
    r"(?:please\s+)?(?:look|(?:take|have)\s+a\s+(?:quick\s+)?look|check|help|review|call|contact|"
    r"ring|phone|give\s+me\s+a\s+(?:ring|call)|"
    r"go\s+through|walk\s+me\s+through|get\s+back|sort|deal|handle)"
)
# What a customer asks to be escalated.
_CASE = r"(?:case|complaint|issue|query|claim|ticket)"
HUMAN_REQUEST = re.compile(
    r"\b(?:talk|speak|chat|connect|transfer|put|a\s+word)\w*\s+(?:me\s+)?(?:to|with|through\s+to)\s+"
    r"(?:a|an|some|one\s+of\s+your|your)?\s*(?:real\s+|actual\s+|live\s+)?"
    r"(?:human|person|agent|representative|advis[eo]r|operator|someone|somebody|staff|manager|"
    r"supervisor)s?\b"
    r"|\b(?:real|actual|live)\s+(?:person|human|agent)\b|\bhuman\s+(?:being|agent)\b"
    r"|\b(?:want|need|get\s+me|give\s+me)\s+(?:a|an)\s+(?:human|person|agent|representative|"
    r"operator)\b"
    # "Can a person look at ...": a person asked to act on the case.
    rf"|\b{_MODAL}\s+(?:a|an|one\s+of\s+your|some)\s+(?:real\s+)?"
    r"(?:person|human|agent|advis[eo]r|colleague|representative|staff\s+member|"
    rf"member\s+of\s+(?:staff|your\s+team))(?:\s+of\s+yours)?\s+{_ACT}"
    # One of the company's people by role ("a word with one of your underwriters"), someone the
    # customer could talk to, someone from the company's team, or one of its people asked to
    # act ("would be great if one of your engineers could walk me through it").
    r"|\b(?:talk|speak|chat|a\s+word)\s+(?:directly\s+)?(?:to|with)\s+one\s+of\s+your\s+\w+"
    r"|\b(?:someone|somebody|anyone|anybody)\s+(?:i|we)\s+(?:can|could|might)\s+(?:talk|speak|chat)\s+"
    r"(?:to|with)\b"
    rf"|\b(?:{_MODAL}\s+(?:some|any)(?:one|body)\s+(?:from|at|in|on)\s+(?:your\s+"
    r"(?:\w+\s+){0,2}?\w+|the\s+(?:\w+\s+)?(?:team|desk|office|department|branch|store|shop|"
    r"reception|support|service|billing|accounts))"
    r"|\b(?:if|can|could|would|please|possible\s+for)\s+one\s+of\s+your\s+(?:\w+\s+){0,2}?\w+\s+"
    rf"(?:can|could|would|to))\s+{_ACT}\b"
    # "Speak to the manager", "put me through to the manager", asked (not "talked to the agent
    # at the airport", "my call got transferred to the manager").
    r"|\b(?:(?:speak|talk)\s+(?:to|with)|(?:put|pass|transfer|connect)\s+me\s+(?:through\s+)?to)\s+"
    r"the\s+(?:manager|supervisor)\b"
    # The case handed up ("can you escalate this", "I want it escalated", "please escalate"),
    # not refused ("no need to escalate this") nor of costs ("will prices escalate this year").
    r"|(?<!\bnot\s)(?<!n't\s)(?<!need\sto\s)\bescalate\s+(?:this|it|my\s+" + _CASE + r")\b"
    r"(?!\s+(?:year|month|week|time|winter|summer)\b)"
    r"|\bplease\s+escalate\b|\b(?:can|could)\s+(?:this|it|my\s+" + _CASE + r")\s+be\s+escalated\b"
    r"|\b(?:want|need|like)\s+(?:this|it|my\s+" + _CASE + r")\s+escalated\b"
    # A bare "transfer me" or "operator (please)": asked of the bot, these ask for a person.
    r"|^\W*(?:please\s+)?(?:transfer\s+me|operator|representative)(?:\s+(?:please|now|asap))?\W*$"
    r"|\bcall\s*-?\s*back\b|\brather\s+than\s+(?:a|an|the|this|your)?\s*(?:bot|robot|machine|"
    r"automated)"
    # A call back asked for ("ring me back"), or to be put through to the people behind the bot.
    r"|\b(?:call|ring|phone)\s+me\s+back\b"
    r"|\b(?:pass|put|transfer|connect|forward)\s+me\s+(?:on\s+|over\s+|through\s+)?(?:to|with)\s+"
    r"(?:(?:a|an|your|the|someone\s+(?:in|on|from))\s+)?(?:customer\s+)?(?:service|support|care|sales|"
    r"billing|accounts?)?\s*(?:team|department|desk|people)\b",
    re.IGNORECASE,
)
COMPLAINT = re.compile(
    r"\b(?:make|file|lodge|raise|submit|register)\w*\s+(?:a\s+|an\s+|my\s+)?(?:formal\s+|official\s+)?"
    r"complaint\b|\bformal\s+complaint\b|\bcomplain(?:ing)?\s+about\b",
    re.IGNORECASE,
)
NOT_HELPFUL = re.compile(
    r"\b(?:(?:that|this|it|you)\s+(?:did\s*n[o'’]?t|does\s*n[o'’]?t|do\s*n[o'’]?t|is\s*n[o'’]?t|"
    r"was\s*n[o'’]?t)\s+(?:\w+ly\s+)?(?:help\w*|answer\w*|work\w*|what\s+i\s+(?:asked|meant|need\w*))|"
    r"not\s+(?:\w+ly\s+|quite\s+|exactly\s+)?(?:what\s+i\s+(?:asked|meant|need\w*|wanted|was\s+"
    r"(?:after|asking|looking\s+for))|helpful|my\s+question)|"
    r"(?:wrong|useless|unhelpful)\s+answer|you(?:'re|\s+are)\s+not\s+(?:listening|understanding)|"
    r"read\s+my\s+question|i\s+(?:already|just)\s+(?:said|told|asked)|same\s+(?:answer|thing)\s+again|"
    # The answer missed the question: "I'm not asking about changing my booking".
    r"(?:(?:i'?m|i\s+am|i\s+was)\s+not|i\s+was\s*n[o'’]?t|i\s+did\s*n[o'’]?t)\s+ask(?:ing)?\s+"
    r"(?:about|for|if|whether|how|why|when|what\s+(?:the|your|a|an))\b|"
    r"that(?:'s|\s+is|\s+was)\s+not\s+(?:the|my)\s+question)\b"
    # Said with no subject, at the start of a sentence: "doesnt really help", "didn't answer it".
    r"|(?:^|[.!?,;]\s*|\b(?:but|nope|no|hmm+|sorry|sadly)\s+)(?:did|does|is|was)\s*n[o'’]?t\s+"
    r"(?:\w+ly\s+)?(?:help\w*|answer\w*)\b",
    re.IGNORECASE,
)
# Contacting someone to be helped, in so many words: asking, calling, writing, chasing, telling.
_CONTACT = (
    r"ask(?:ed|ing)?|call(?:ed|ing)|rang|rung|phon(?:ed|ing)|telephon(?:ed|ing)|e-?mail(?:ed|ing)|"
    r"messag(?:ed|ing)|writ(?:ten|ing)|wrote|chas(?:ed|ing)|contact(?:ed|ing)|explain(?:ed|ing)?|"
    r"been\s+told|told\s+(?:you|u|ya|them|him|her|everyone|your\s+\w+|the\s+\w+)|"
    r"report(?:ed|ing)|complain(?:ed|ing)|rais(?:ed|ing)|request(?:ed|ing)|on\s+hold|in\s+touch|"
    r"(?:had|have|has)\s+to\s+(?:ask|call|ring|phone|e-?mail|chase|contact|explain|repeat|write|"
    r"tell|say|send|try|wait|come)"
)
# Trying again to be helped: saying, sending, doing what the list said, waiting in.
_EFFORT = (
    rf"{_CONTACT}|said|spok(?:e|en)|chatt(?:ed|ing)|sent|fill(?:ed|ing)|"
    r"(?:given|gave)\s+(?:you|u|them|your\s+\w+)|provid(?:ed|ing)|repeat(?:ed|ing)|typed|done|"
    r"tried|follow(?:ed|ing)|check(?:ed|ing)|restart(?:ed|ing)|reinstall(?:ed|ing)|read|heard|"
    r"waited|queued|visited|been\s+(?:in|back|out|round|here)|come\s+(?:in|back)|"
    r"rearrang(?:ed|ing)|reschedul(?:ed|ing)|cancell?(?:ed|ing)"
)
# The customer's own effort: after "I", "we" or "you" ("you've sent me…"), or opening a clause
# with its subject left out ("rang twice yesterday"); not "the courier has tried twice".
_BY_THE_CUSTOMER = (
    r"(?:(?:^|(?<=[.!?,;:\n]))\s*|\b(?:i|we|you|u|i'?ve|we'?ve|you'?ve|i'?d|we'?d)\b"
    r"(?:\s+\w+){0,3}?\s+)"
)
_EXACT = r"(?:twice|(?:two|three|four|five|six|seven|eight|nine|ten|\d+)\s+times)"
# "many times" is as often a fond memory ("I've shopped here many times before"): only with a
# contact ("I've called several times").
_VAGUE = (
    r"(?:several|multiple|many|numerous|countless|a\s+few|a\s+couple\s+of|a\s+dozen|"
    r"dozens\s+of)\s+times"
)
# Between the effort and its count: a few words of the same clause ("emailed you about this
# four times"), not across a comma or "because" ("I emailed because I was charged twice").
_GAP = r"[^\w.,;:!?\n]+"  # spaces and the like, never a clause's punctuation
_SAME_CLAUSE = rf"(?:{_GAP}(?!(?:and|because|but|as|since|so|when|while)\b)\w+){{0,6}}?"
# Not how often or how much ("twice a week", "three times as long", "many times before").
_NOT_A_RATE = r"\b(?!\s+(?:a|an|per|each|every|as|before|over)\b)"


def _counted(verbs: str, count: str) -> str:
    """The customer's own ``verbs`` and then, in the same clause, a ``count`` that is no rate."""
    return rf"{_BY_THE_CUSTOMER}(?:{verbs}){_SAME_CLAUSE}{_GAP}{count}{_NOT_A_RATE}"


# The customer counts their contacts or efforts ("I've emailed four times", "you've sent me the
# same article three times now", "done everything on the list. twice."), or a failure so far
# ("that's twice now", "the third time"). Not a thing that happened twice in one go ("I was
# charged twice", "it's on the invoice twice"), how often ("twice a week") or someone else's
# tries ("the driver has tried three times").
REPEAT_CONTACT = re.compile(
    r"\b(?:(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th))\s+time|"
    # Asking again: "how many times have I told you", "how many more times do I need to ask",
    # "How many times?!"; not "how many times a year should I have it serviced", "how many
    # more times can I change the date" nor "how many times did you try to deliver?"
    r"how\s+many\s+(?:more\s+)?times\s*(?:\?!|!|\?\?)|"
    r"how\s+many\s+times\s+(?:have|has|must)\s+(?:i|we|you|it)\b|"
    r"how\s+many\s+times\s+(?:am|are)\s+(?:i|we)\s+(?:going\s+to|gonna)\b|"
    r"how\s+many\s+times\s+(?:is\s+(?:this|that)|are\s+you)\b|"
    r"how\s+many\s+(?:more\s+)?times\s+(?:\w+\s+){1,4}?"
    r"(?:ask|call|ring|phone|e-?mail|chase|contact|explain|repeat|write|tell|say|send|wait)\b|"
    rf"{_counted(_EFFORT, _EXACT)}|{_counted(_CONTACT, _VAGUE)}|"
    rf"(?:{_EXACT}|{_VAGUE})\s+now\b|(?:^|[.!?,;]\s*){_EXACT}(?:\s+now)?\s*(?:[.!?]|$)|"
    r"again\s+and\s+again\b|(?:still|yet\s+again)\s+(?:no|not|nothing|waiting))",
    re.IGNORECASE,
)
NO_LONGER_NEEDED = re.compile(
    r"\b(?:never\s*mind|forget\s+(?:it|about\s+it)|no\s+longer\s+need|"
    r"(?:do\s*n[o']?t|dont)\s+need\s+(?:it|help|(?:a|an|the)\s+\w+|anyone|anybody|someone|"
    r"somebody)\s+any\s*more|(?:sorted|fixed|solved|figured|worked)\s+it(?:\s+out)?|"
    r"(?:it|all|problem|issue|that|everything)(?:'s|\s+is|\s+was|\s+has\s+been|\s+got)?\s+"
    r"(?:now\s+|all\s+)?(?:sorted|solved|fixed|"
    r"resolved)|(?:cancel|withdraw)\s+(?:my|the|this)\s+(?:request|query|question))\b",
    re.IGNORECASE,
)
ASKING = re.compile(
    r"\s*(?:is|are|has|have|was|did|does|can|could|will|would|when|why|how)\b", re.I
)
NEGATION_BEFORE = re.compile(r"(?:\bnot|n't|\bnever|\bno|\bstill)\s+(?:\w+\s+)?$", re.IGNORECASE)
_NEGATIVE = re.compile(
    r"\b(?:ridiculous|unacceptable|useless|pathetic|terrible|awful|horrible|disgust\w*|"
    r"worst(?!\s+case\b(?!\s+of))|"  # "worst case, can I…" plans; "the worst case of…" does not
    r"furious|angry|annoy\w*|frustrat\w*|fed\s+up|sick\s+of|tired\s+of|hate|incompetent|scam|"
    r"waste\s+of|rubbish|disappoint\w*|unbelievable|outrage\w*)\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(r"\b(?:not|n't|never|no)\s+(?:\w+\s+)?$", re.IGNORECASE)
# Words that turn thanks into something else: "thanks for nothing", "thank you, but I still
# haven't…", "thanks anyway", "I'll take my business elsewhere", "I'll just wait then".
THANKS_TURNED = re.compile(
    r"\b(?:but|still|anyway|though|nothing|not|never|elsewhere|whatever|guess|suppose|"
    r"just\s+wait|dont|didnt|havent|hasnt|isnt|wasnt|cant|wont|doesnt)\b|n[’']t\b",
    re.IGNORECASE,
)


def shouting(text: str) -> bool:
    """Two or more words of three letters or more in capitals, and mostly capitals."""
    words = re.findall(r"[A-Za-z']+", text)
    letters = [c for c in text if c.isalpha()]
    shouted = sum(1 for w in words if len(w) >= 3 and w.isupper())
    return bool(letters) and shouted >= 2 and sum(c.isupper() for c in letters) / len(letters) > 0.6


LOOK_BACK = 60  # characters: the negations looked for stand a word or two before a phrase


def before(text: str, start: int) -> str:
    """The few words before ``start``: where a negation of what starts there would stand (a
    bounded window, so that reading every phrase of a long message stays linear)."""
    return text[max(0, start - LOOK_BACK) : start]


def plain(text: str) -> str:
    """The text with typographic apostrophes made plain ("didn’t" reads as "didn't")."""
    return text.replace("\u2019", "'").replace("\u2018", "'")


def no_longer_needed(text: str) -> bool:
    """The customer says they no longer need help ("never mind, sorted it"): a phrase for it
    that is not negated ("I haven't sorted it"), in a message that asks nothing more."""
    if "?" in text or ASKING.match(text):
        return False
    return any(
        not NEGATION_BEFORE.search(before(text, m.start())) for m in NO_LONGER_NEEDED.finditer(text)
    )


def lexical_frustration(text: str) -> float:
    """The fallback when no heads are loaded: general negative words that are not negated."""
    hits = sum(1 for m in _NEGATIVE.finditer(text) if not _NEGATED.search(before(text, m.start())))
    return min(1.0, 0.35 * hits)
