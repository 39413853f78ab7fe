"""Read signals from a customer's words: a request for a person, a complaint, frustration,
sensitive topics, thanks, a problem said to be solved and a customer who says they are not
upset (each lets a calm customer end a run of mildly negative turns: ``settled``).

Two sources are combined:

* **Learned heads** over the query embedding (``Reading``, computed on the knowledge side):
  they carry to wording nobody wrote down, and do most of the work.
* **A few precise, general patterns**: shouting, counting contacts ("third time"), an answer
  rejected in so many words ("that didn't help"), an explicit ask for a human, and the
  sensitive-topic patterns an admin configures. No pattern is fitted to a dataset's wording.

Without heads (another embedding model is configured) the patterns and a small lexicon of
general negative words stand in for them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence

from bot.model import Reading, Signals

_MODAL = r"(?:can|could|would|will|may)"
# What a person is asked to do on the case ("look", "give me a ring", "walk me through").
_ACT = (
    r"(?:please\s+)?(?:look|check|help|review|call|contact|ring|phone|give\s+me\s+a\s+(?:ring|call)|"
    r"go\s+through|walk\s+me\s+through|get\s+back|sort|deal|handle)"
)
HUMAN_REQUEST = re.compile(
    r"\b(?:talk|speak|chat|connect|transfer|put)\w*\s+(?:me\s+)?(?:to|with|through\s+to)\s+"
    r"(?:a|an|some|one\s+of\s+your|your)?\s*(?:real\s+|actual\s+|live\s+)?"
    r"(?:human|person|agent|representative|advis[eo]r|operator|someone|somebody|staff|manager|"
    r"supervisor)s?\b"
    r"|\b(?:real|actual|live)\s+(?:person|human|agent)\b|\bhuman\s+(?:being|agent)\b"
    r"|\b(?:want|need|get\s+me|give\s+me)\s+(?:a|an)\s+(?:human|person|agent|representative|"
    r"operator)\b"
    # "Can a person look at ...": a person asked to act on the case.
    rf"|\b{_MODAL}\s+(?:a|an|one\s+of\s+your|some)\s+(?:real\s+)?"
    r"(?:person|human|agent|advis[eo]r|colleague|representative|staff\s+member|"
    rf"member\s+of\s+(?:staff|your\s+team))\s+{_ACT}"
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
    r"\b(?:(?:that|this|it|you)\s+(?:did\s*n[o']?t|does\s*n[o']?t|do\s*n[o']?t|is\s*n[o']?t|"
    r"was\s*n[o']?t)\s+(?:\w+ly\s+)?(?:help\w*|answer\w*|work\w*|what\s+i\s+(?:asked|meant|need\w*))|"
    r"not\s+(?:\w+ly\s+|quite\s+|exactly\s+)?(?:what\s+i\s+(?:asked|meant|need\w*|wanted|was\s+"
    r"(?:after|asking|looking\s+for))|helpful|my\s+question)|"
    r"(?:wrong|useless|unhelpful)\s+answer|you(?:'re|\s+are)\s+not\s+(?:listening|understanding)|"
    r"read\s+my\s+question|i\s+(?:already|just)\s+(?:said|told|asked)|same\s+(?:answer|thing)\s+again|"
    # The answer missed the question: "I'm not asking about changing my booking".
    r"(?:(?:i'?m|i\s+am|i\s+was)\s+not|i\s+was\s*n[o']?t|i\s+did\s*n[o']?t)\s+ask(?:ing)?\s+"
    r"(?:about|for|if|whether|how|why|when|what\s+(?:the|your|a|an))\b|"
    r"that(?:'s|\s+is|\s+was)\s+not\s+(?:the|my)\s+question)\b"
    # Said with no subject, at the start of a sentence: "doesnt really help", "didn't answer it".
    r"|(?:^|[.!?,;]\s*|\b(?:but|nope|no|hmm+|sorry|sadly)\s+)(?:did|does|is|was)\s*n[o'’]?t\s+"
    r"(?:\w+ly\s+)?(?:help\w*|answer\w*)\b",
    re.IGNORECASE,
)
REPEAT_CONTACT = re.compile(
    r"\b(?:(?:second|third|fourth|fifth|\d+(?:st|nd|rd|th))\s+time|how\s+many\s+times|"
    r"(?:twice|three\s+times|again\s+and\s+again)\b|(?:still|yet\s+again)\s+(?:no|not|nothing|waiting))",
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
# The customer says the problem is solved or explained: "it's working now", "that did the
# trick", "ah that explains it", "makes sense now", "it's just come through", "all good". Not
# "fine" or "ok" alone, which resignation says too ("its fine. forget it").
RESOLVED = re.compile(
    r"\b(?:(?:it|that|this|everything|all)(?:'s|s|\s+is|\s+has\s+been)?\s+(?:all\s+)?"
    r"(?:working|sorted|fixed|resolved)|(?:working|works)\s+(?:now|again)|"
    r"(?:that|it|this|which|link|code|reset|fix)\s+(?:worked|did\s+it|did\s+the\s+trick|"
    r"fixed\s+it|sorted\s+it|solves\s+it|resolves\s+it)|"
    r"makes?\s+sense|explains\s+(?:it|that|everything)|all\s+good|"
    r"(?:has|'s|just|finally|now|all)\s+(?:arrived|turned\s+up|come\s+through|gone\s+through|"
    r"went\s+through|shown\s+up|showed\s+up|appeared|landed)|(?:came|come)\s+through|"
    r"turned\s+up|(?:got|i'm|im|i\s+am|logged|signed)\s+back\s+in)\b",
    re.IGNORECASE,
)
# Before the phrase, in its clause: a negation or a condition ("it hasnt come through", "none
# of this makes sense", "let me know if it has come through").
_UNSETTLED_BEFORE = re.compile(
    r"\b(?:not|never|no|none|nothing|nobody|still|if|when|whether|until|unless|once|"
    r"dont|didnt|doesnt|hasnt|havent|isnt|wasnt|werent|aint|cant|couldnt|wont|wouldnt)\b|n't\b",
    re.IGNORECASE,
)
# After it, in its clause, only these may follow ("it's come through now, thanks"); anything
# else says what the phrase is about ("has arrived damaged", "got back in touch").
_CLOSING_WORDS = frozenset(
    "now again at last finally today yesterday this morning then too thanks thank you cheers "
    "ta lol haha x".split()
)
# Anywhere after it: there is more to it ("but…", "no thanks to you", "elsewhere", a question).
_MORE_TO_IT = re.compile(
    r"\b(?:but|still|however|though|although|tho|except|yet|elsewhere|no\s+thanks)\b|\?",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(r"[.!?;,\n]")
# The customer says in so many words that they are not upset: "not annoyed at all, just
# checking", "honestly not cross about it", "it's not a complaint as such", "no hard feelings".
_FEELING = (
    r"(?:angry|cross|upset|annoyed|irritated|frustrated|mad|bothered|fussed|complaining|"
    r"moaning|having\s+a\s+go|a\s+complaint|tired|exhausted|stressed|gutted|livid|fuming|"
    r"fed\s+up|sick|worn\s+out|disappointed|unhappy)"
)
DISCLAIMED = re.compile(
    r"(?:\bnot|\bnever|\b(?:is|was|are|were|do|does|did|have|has|had|ai|ca|wo|could|would|"
    r"should)n[o'\u2019]?t)\s+(?:(?:at\s+all|really|even|that|too|remotely|"
    r"particularly|overly|actually|honestly|in\s+the\s+least)\s+)?" + _FEELING + r"\b"
    r"|\bno\s+(?:complaints?|hard\s+feelings)\b",
    re.IGNORECASE,
)
_FEELING_WORD = re.compile(r"\b" + _FEELING + r"\b", re.IGNORECASE)
# After a disclaimer, these turn it into a preface ("I'm not angry, but this is a joke").
_TURNED_AFTER = re.compile(
    r"\b(?:but|however|though|although|tho|except|yet|that\s+said|having\s+said)\b", re.IGNORECASE
)
_ASKING = re.compile(
    r"\s*(?:is|are|has|have|was|did|does|can|could|will|would|when|why|how)\b", re.I
)
_NEGATION_BEFORE = re.compile(r"(?:\bnot|n't|\bnever|\bno|\bstill)\s+(?:\w+\s+)?$", re.IGNORECASE)
_NEGATIVE = re.compile(
    r"\b(?:ridiculous|unacceptable|useless|pathetic|terrible|awful|horrible|worst|disgust\w*|"
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

DEFAULT_SENSITIVE_TOPICS: dict[str, str] = {
    "legal": r"\b(?:lawyer|attorney|solicitor|lawsuit|legal\s+action|small\s+claims|ombudsman|"
    r"trading\s+standards|sue|suing)\b",
    "fraud": r"\b(?:fraud\w*|identity\s+theft|phishing|unauthori[sz]ed\s+(?:charge|payment|"
    r"transaction)s?)\b"
    # A payment or a change disowned in so many words: "it wasn't me", "I didn't authorise it".
    r"|\bwas\s*n[o'’]?t\s+me\b|\b(?:did\s*n[o'’]?t|did\s+not|never)\s+authori[sz]e(?:d)?\b"
    # An account or card taken over, told as something done to the customer: "my account got
    # hacked", "my card has been compromised", "used my card without my permission", "someone
    # changed my password", "switched to an email I don't recognise". Not the passive change
    # of a detail ("my phone number has been changed, how do I…"), nor hackers in general.
    r"|\b(?:been|got|get|was|were|is|are)\s+hacked\b|\bhacked\s+(?:into\s+)?(?:my|our)\b"
    r"|\b(?:account|card|details|pin|password|login)\s+(?:has\s+|have\s+|may\s+have\s+|might\s+"
    r"have\s+)?(?:been|was|were|got|is|are|become)\s+compromised\b"
    r"|\b(?:us(?:ed|ing)|tak(?:en|ing)|took|charg(?:ed|ing)|ma(?:de|king)|withdr\w+|order(?:ed|ing)|"
    r"access(?:ed|ing)|changed|opened|sp(?:ent|ending)|b(?:ought|uying))\b[^.?!]{0,40}"
    r"\bwithout\s+my\s+(?:permission|consent|knowledge|"
    r"authori[sz]ation)\b"
    r"|\b(?:someone|somebody|a\s+stranger)\s+(?:has\s+|had\s+)?(?:changed|reset|switched)\s+my\s+"
    r"(?:e-?mail|password|passcode|pin|login|phone\s+number)"
    r"|\b(?:changed|switched)\s+to\s+(?:an?\s+)?(?:\w+\s+)?(?:address|e-?mail|number)\s+I\s+"
    r"(?:don[’']?t|do\s+not|didn[’']?t)\s+(?:know|recogni[sz]e)\b",
    "safety": r"\b(?:injur(?:y|ies|ed)|electric\s+shock|caught\s+fire|burn(?:ed|t)\s+(?:me|my|him|"
    r"her)|choking|allergic\s+reaction)\b"
    # Harm told as what happened to someone's body: "it cut my daughter's hand", "I hurt my
    # back", "she needed stitches", "we ended up in A&E", "he got hurt". Past or perfect
    # only, so a question of what might happen ("will a firm mattress hurt my back?") is not.
    r"|(?<!will\s)(?<!would\s)(?<!could\s)(?<!might\s)(?<!does\s)(?<!can\s)(?<!may\s)"
    r"\b(?:i|he|she|they|we|it|and|which|that)\s+(?:have\s+|has\s+|had\s+|just\s+|nearly\s+|"
    r"almost\s+)?(?:cut|burnt|burned|scalded|hurt|injured|bruised|broke|sprained|trapped|"
    r"crushed|shocked)\s+(?:my|his|her|their|our)\s+(?:\w+[’']s\s+|\w+\s+)?(?:hands?|"
    r"fingers?|thumbs?|arms?|legs?|foot|feet|toes?|back|neck|head|face|eyes?|knees?|wrists?|"
    r"ankles?|skin|mouth|lips?|shoulders?|hips?|chin|ribs?|nose|teeth|tooth)\b"
    r"|\b(?:need(?:ed|s)?|got|had|have|has)\s+(?:\w+\s+)?stitches\b"
    r"|\b(?:went|gone|go|taken|rushed|ended\s+up|had\s+to\s+go)\s+(?:to\s+|in\s+)?(?:a\s*&\s*e|"
    r"a\s+and\s+e|the\s+hospital|hospital|the\s+er|urgent\s+care|the\s+emergency\s+room)\b"
    r"|\bhurt\s+(?:myself|himself|herself|themselves|ourselves)\b"
    r"|(?<!no\sone\s)(?<!no-one\s)(?<!nobody\s)(?<!feelings\s)\b(?:got|was|were|been)\s+(?:badly\s+|"
    r"seriously\s+|quite\s+badly\s+)?(?:hurt|injured)\b",
    "personal_data": r"\b(?:gdpr|subject\s+access\s+request|right\s+to\s+be\s+forgotten|"
    r"(?:my|the)\s+personal\s+(?:data|information)|delete\s+(?:all\s+)?my\s+data)\b",
    "cancellation": r"\b(?:cancel|terminate|end)\s+(?:my\s+)?"
    r"(?:contract|subscription|membership)\b",
}
TOPIC_ALIASES = {"contract_cancel": "cancellation"}
SHOUTING_BOOST = 0.3
REPEAT_BOOST = 0.3
MILD = 0.4  # a turn at this level or above is mildly negative
CALM = 0.25  # thanks at this level or above may be sarcastic ("thanks for wasting my afternoon")
DISCLAIMED_LEVEL = 0.2  # the most a message that disclaims being upset reads (``disclaims``)


def shouting(text: str) -> bool:
    """Two or more words of three letters or more in capitals, and mostly capitals."""
    words = re.findall(r"[A-Za-z']+", text)
    letters = [c for c in text if c.isalpha()]
    shouted = sum(1 for w in words if len(w) >= 3 and w.isupper())
    return bool(letters) and shouted >= 2 and sum(c.isupper() for c in letters) / len(letters) > 0.6


def no_longer_needed(text: str) -> bool:
    """The customer says they no longer need help ("never mind, sorted it"): a phrase for it
    that is not negated ("I haven't sorted it"), in a message that asks nothing more."""
    if "?" in text or _ASKING.match(text):
        return False
    return any(
        not _NEGATION_BEFORE.search(text[: m.start()]) for m in NO_LONGER_NEEDED.finditer(text)
    )


def resolved(text: str) -> bool:
    """The customer says the problem is solved or explained ("ah, that explains it", "it's
    come through now"): a phrase for it that ends its clause (nothing but "now", thanks or the
    like after it), in a clause that does not ask and has no negation or condition before it
    ("it hasnt come through", "has it come through", "let me know if it has come through"),
    and nothing later that says there is more ("but…", "no thanks to you", a question)."""
    text = text.replace("\u2019", "'")
    more = [m.start() for m in _MORE_TO_IT.finditer(text)]
    last_more = more[-1] if more else -1
    ends = [m.start() for m in _CLAUSE_END.finditer(text)]
    for match in RESOLVED.finditer(text):
        if last_more >= match.end():
            continue
        before = bisect.bisect_left(ends, match.start())
        clause = text[ends[before - 1] + 1 if before else 0 : match.start()]
        if _UNSETTLED_BEFORE.search(clause) or _ASKING.match(clause):
            continue
        after = bisect.bisect_left(ends, match.end())
        rest = text[match.end() : ends[after] if after < len(ends) else len(text)]
        if set(re.findall(r"[a-z']+", rest.lower())) <= _CLOSING_WORDS:
            return True
    return False


def disclaims(text: str) -> bool:
    """The customer says they are not upset ("not annoyed at all, just checking", "no hard
    feelings", "it's not a complaint as such") and nothing else in the message says otherwise:
    every feeling word in it is disclaimed, no "but…" follows the disclaimer, no other negative
    word, rejected answer, counted contact, shouting or run of "!!"/"??"."""
    spans = [m.span() for m in DISCLAIMED.finditer(text)]
    if not spans or _TURNED_AFTER.search(text, spans[0][1]):
        return False
    if any(not any(a <= m.start() < b for a, b in spans) for m in _FEELING_WORD.finditer(text)):
        return False
    return _nothing_else_upset(text)


# The customer accepts bad news or an explanation: "fair enough", "no worries", "that's fine",
# "understood", "not your fault", "these things happen", "I'll wait".
ACCEPTED = re.compile(
    r"\b(?:fair\s+enough|no\s+worries|no\s+problem|not\s+(?:your|anyone'?s)\s+fault|"
    r"nobody'?s\s+fault|these\s+things\s+happen|understood|understandable|"
    r"(?:that'?s|that\s+is|thats)\s+(?:fine|ok|okay|alright|all\s+right)|"
    r"(?:i'?ll|ill|i\s+will|we'?ll|happy\s+to)\s+wait)\b",
    re.IGNORECASE,
)
# Words of resignation or sarcasm that turn acceptance into giving up ("fine, I'll wait in
# again on thursday I suppose", "another three weeks, no problem").
_RESIGNED = re.compile(
    r"\b(?:again|suppose|guess|apparently|whatever|not\s+like|another|as\s+usual|of\s+course|"
    r"obviously|elsewhere|somewhere\s+else|anyway|or\s+anything|great|lovely|brilliant|"
    r"thanks\s+a\s+lot|cheers\s+for\s+nothing)\b",
    re.IGNORECASE,
)


def _nothing_else_upset(text: str) -> bool:
    """No negative word, rejected answer, counted contact, shouting or run of "!!"/"??"."""
    return not (
        lexical_frustration(text)
        or NOT_HELPFUL.search(text)
        or REPEAT_CONTACT.search(text)
        or shouting(text)
        or re.search(r"[!?]{2,}", text)
    )


def accepts(text: str) -> bool:
    """The customer accepts bad news or an explanation ("ah that's a shame but fair enough,
    I'll take the later slot"), with no "but…" after it, no word of resignation or sarcasm
    ("again", "I suppose", "another", "great") and nothing else upset."""
    found = ACCEPTED.search(text)
    if not found or _TURNED_AFTER.search(text, found.end()) or _RESIGNED.search(text):
        return False
    if _NEGATION_BEFORE.search(text[: found.start()]):
        return False
    return _nothing_else_upset(text)


def settled(text: str, signals: Signals) -> bool:
    """The latest message settles the matter: it thanks calmly (``thanks_calmly``), says the
    customer is not upset (``disclaims``), or says the problem is solved (``resolved``) without
    reading even mildly negative (under ``MILD``, and no negative word: "finally came through,
    ridiculous service" does not); and it does not reject an answer or count contacts. What
    came before, the customer has put behind them."""
    if NOT_HELPFUL.search(text) or REPEAT_CONTACT.search(text):
        return False
    if thanks_calmly(text, signals) or disclaims(text) or accepts(text):
        return True
    return signals.frustration < MILD and not lexical_frustration(text) and resolved(text)


def thanks_calmly(text: str, signals: Signals) -> bool:
    """The message thanks and nothing in it says otherwise: the gratitude head fires, the
    message reads calm (under ``CALM``) and no word turns the thanks (``THANKS_TURNED``)."""
    return signals.grateful and signals.frustration < CALM and not THANKS_TURNED.search(text)


def negative(frustration: float, text: str) -> bool:
    """A mildly negative turn: its level reaches ``MILD``, or it rejects an answer in so many
    words or counts its contacts ("still no refund")."""
    return frustration >= MILD or bool(NOT_HELPFUL.search(text) or REPEAT_CONTACT.search(text))


def run_of_negative_turns(texts: Sequence[str], levels: Sequence[float]) -> float:
    """Frustration from mildly negative turns adding up: two or three of the last three (0.55,
    0.65; 0 when they do not add up). A latest message that settles the matter (``settled``)
    is read on its own before this (``bot.policy.conversation_signals``).

    Args:
        texts: The customer turns read, oldest first, the latest last.
        levels: Each turn's own frustration, in the same order.
    """
    run = [negative(lv, text) for lv, text in zip(levels, texts, strict=True)][-3:]
    return 0.35 + 0.1 * sum(run) if sum(run) >= 2 else 0.0


def level(value: float, threshold: float) -> float:
    """Scale a probability or similarity so that ``threshold`` maps to 0.5 (monotonic, 0..1)."""
    threshold = min(max(threshold, 1e-6), 1 - 1e-6)
    if value < threshold:
        return 0.5 * max(value, 0.0) / threshold
    return min(1.0, 0.5 + 0.5 * (value - threshold) / (1 - threshold))


def lexical_frustration(text: str) -> float:
    """The fallback when no heads are loaded: general negative words that are not negated."""
    hits = sum(1 for m in _NEGATIVE.finditer(text) if not _NEGATED.search(text[: m.start()]))
    return min(1.0, 0.35 * hits)


def frustration(text: str, reading: Reading | None = None) -> float:
    """How frustrated one message sounds, 0 (calm) to 1; 0.5 is where a person should look.

    The frustration head's level when heads are loaded (else the lexicon), raised by shouting,
    counting contacts ("third time") and, unless a learned lexical head read them already,
    runs of ``!``/``?``; a message that says the customer is not upset (``disclaims``) reads
    calm.
    """
    if reading is not None and "frustration" in reading.levels:
        score = reading.levels["frustration"]
    else:
        score = lexical_frustration(text)
    if shouting(text):
        score += SHOUTING_BOOST
    if REPEAT_CONTACT.search(text):
        score += REPEAT_BOOST
    if reading is None or not reading.punctuation:  # a lexical head has read them already
        score += 0.15 * min(3, len(re.findall(r"[!?]{2,}", text)))
        score += 0.1 * min(3, text.count("!"))
    if disclaims(text) or accepts(text):  # the head reads "angry" in "not angry", "shame" in…
        score = min(score, DISCLAIMED_LEVEL)
    return max(0.0, min(1.0, score))


def compile_topics(
    patterns: Mapping[str, str], enabled: Iterable[str]
) -> dict[str, re.Pattern[str]]:
    """Compile the enabled sensitive topics that have a pattern."""
    names = [TOPIC_ALIASES.get(name, name) for name in enabled]
    return {name: re.compile(patterns[name], re.IGNORECASE) for name in names if name in patterns}


def read_signals(
    text: str,
    topics: Mapping[str, re.Pattern[str]],
    reading: Reading | None = None,
    learned_topics: Iterable[str] = (),
) -> Signals:
    """All signals for one customer message.

    Args:
        text: The message.
        topics: Sensitive-topic patterns by name.
        reading: What the heads read in it, if heads are loaded.
        learned_topics: Topic names whose head (or examples) may flag the message.
    """
    reading = reading or Reading()
    flagged = {name for name, pattern in topics.items() if pattern.search(text)}
    flagged |= {name for name in learned_topics if reading.fired(name)}
    own = frustration(text, reading)
    return Signals(
        human_request=reading.fired("human_request") or bool(HUMAN_REQUEST.search(text)),
        complaint=reading.fired("complaint") or bool(COMPLAINT.search(text)),
        frustration=own,
        sensitive_topics=tuple(sorted(flagged)),
        trend=(own,),
        grateful=reading.fired("gratitude"),
    )


def over_conversation(
    latest: Signals, texts: Sequence[str], earlier: Sequence[Signals], echo: float
) -> Signals:
    """Frustration read over the conversation, not one message, by hand-set rules: used when
    the heads did not read the turns (``bot.conversation_frustration`` weighs it otherwise).

    Several mildly negative turns add up (an answer rejected in so many words, or "still no
    refund", counts as one); a latest message that settles the matter (``settled``: it thanks
    calmly, "ah that worked, thank you!", not "thanks for nothing", or says the problem is
    solved) is read on its own before these rules (``bot.policy.conversation_signals``);
    rejecting an answer, or asking the same question again, adds to what the latest message
    says; earlier frustration carries over (less when the customer is calming down).

    Args:
        latest: The latest message's own signals.
        texts: The customer turns read, oldest first, the latest last.
        earlier: The earlier turns' own signals, oldest first.
        echo: The latest message's similarity to the closest earlier one.
    """
    if not earlier:
        return latest
    levels = [s.frustration for s in earlier] + [latest.frustration]
    carried = max(levels[:-1])
    rising = latest.frustration > 0 and latest.frustration >= carried
    score = latest.frustration + (0.5 if rising else 0.25) * carried
    score = max(score, run_of_negative_turns(texts, levels))
    if NOT_HELPFUL.search(texts[-1]):
        score += 0.15
    if echo >= 0.9:
        score += 0.2
    return Signals(
        human_request=latest.human_request,
        complaint=latest.complaint,
        frustration=min(1.0, score),
        sensitive_topics=latest.sensitive_topics,
        trend=tuple(levels),
        grateful=latest.grateful,
    )
