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

import re
from collections.abc import Iterable, Mapping, Sequence

from bot.calm_words import accepts, asks_what_if, disclaims, resolved
from bot.model import Reading, Signals
from bot.phrases import (
    COMPLAINT,
    HUMAN_REQUEST,
    NOT_HELPFUL,
    REPEAT_CONTACT,
    THANKS_TURNED,
    lexical_frustration,
    plain,
    shouting,
)

# Family and close people, as a bereaved customer names them.
_KIN = (
    r"(?:mum|mom|mother|dad|father|husband|wife|partner|son|daughter|brother|sister|gran|nan|"
    r"grandma|grandmother|grandad|granddad|grandpa|grandfather|uncle|aunt|auntie|fianc[ée]e?|"
    r"boyfriend|girlfriend|child|baby|friend|parents?|step(?:mum|mom|mother|dad|father|son|"
    r"daughter)|foster\s+(?:mum|mom|mother|dad|father|parents?|son|daughter|child)|\w+-in-law)"
)
# Whom a customer at risk at home names.
_PARTNER = r"(?:partner|husband|wife|ex|boyfriend|girlfriend)"
# What a bereaved customer deals with on the late person's behalf: "my late husband's account".
# Not an object of theirs told of in passing ("tuned my late mum's piano").
_ESTATE = (
    r"(?:account|subscription|policy|order|membership|contract|card|estate|phone|bills?|name|"
    r"post|mail|details|direct\s+debit|pension|plan|booking|insurance|loan|mortgage)"
)
# "Passed" said of a death, not of a test: "passed away", or a relative who "passed two weeks
# ago" (not "he's 22 and passed 4 years ago", nor "my daughter passed last week").
_PASSED_AGO = (
    r"passed\s+(?:\d+|a|an|one|two|three|four|five|six|several|a\s+few)\s+"
    r"(?:days?|weeks?|months?|years?)\s+ago\b"
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
    # Ending what binds the customer to the business, told as a verb and its object: "cancel
    # my premium subscription", "close my current account", "end our tenancy", "stop the plan
    # entirely", "leave my membership". Not one order, delivery or booking, a card, a change
    # ("cancel my plan upgrade"), a newsletter, "the end of my contract", "in the end my
    # account…", "stop my account being charged", "leave the account open", "finish my
    # account setup".
    "cancellation": r"(?<!the\s)\b(?:cancel(?:l?ing)?|terminat(?:e|ing)|end(?:ing)?|"
    r"clos(?:e|ing)|stop(?:ping)?|quit(?:ting)?)\s+"
    r"(?:(?:my|our|the|his|her|their|this|that|your)\s+)?"
    r"(?:(?!(?:of|for|to|from|on|in|at|and|or|with|a|an|someone|somebody|anyone|people|them|him|"
    r"it|my|our|your|newsletters?|e-?mails?|mailing|marketing|sms|text|promo\w*)\b)"
    r"(?![\w-]+ing\b)[\w-]+\s+){0,3}?"
    r"(?:contract|subscription|membership|account|plan|policy|tenancy|lease)s?\b"
    r"(?!\s*(?:card|number|no\b|details|fee|page|settings|id\b|pin\b|password|manager|holder|"
    r"balance|statement|e-?mail|name|activity|upgrade|change|renewal|box|order|delivery|tab\b|"
    r"app\b|window|screen|session|review|set\s*up|setup|registration|verification|application)"
    r"|\s+(?:from|being|getting|going|sending|as\s+it|open)\b"
    r"|\s+to\s+(?:the|your|our)\s+(?:\w+\s+)?(?:newsletter|mailing|e-?mails?|offers|marketing))"
    # Leaving what binds them, said plainly: "leave my membership", "leave our contract".
    r"|(?<!maternity\s)(?<!paternity\s)(?<!sick\s)(?<!annual\s)\bleav(?:e|ing)\s+(?:my|our)\s+"
    r"(?:contract|tenancy|lease|plan|membership)\b"
    r"(?!\s*(?:card|number|details|as\s+it|alone|open))",
    # A death told by the bereaved: "my mum passed away", "the account holder has died", "my
    # late husband's account", "I'm the executor". Not a phone or a battery that died, and not
    # "funeral" alone (a florist's or a funeral director's routine traffic).
    "bereavement": r"\bpassed\s+away\b|\bbereave\w*|\bdeceased\b|\bprobate\b"
    r"|\bdeath\s+(?:certificate|in\s+the\s+family)\b|\bexecutors?\s+(?:of|for)\b"
    r"|\b(?:i[’']?m|i\s+am|we[’']?re|we\s+are)\s+(?:the\s+|an?\s+)?executors?\b"
    rf"|\b(?:my|our|his|her)\s+late\s+{_KIN}\b(?![’']s\s+(?!{_ESTATE}\b))"
    rf"|\b(?:my|our|the)\s+(?:\w+\s+)?(?:{_KIN}|account\s+holder|dog|cat|pet|horse)(?:[’']s)?\s+"
    rf"(?:has\s+|had\s+|just\s+|recently\s+|sadly\s+|suddenly\s+)*(?:died\b|{_PASSED_AGO})"
    rf"|\b(?:lost|losing)\s+(?:my|our)\s+{_KIN}\b(?![’']s)(?!\s+(?:in|at|on)\s+the\b)"
    # "Mum died in March", a clause's subject; "she's no longer with us".
    rf"|(?:^|[.!?,;:]\s*)(?:{_KIN})\s+(?:has\s+|just\s+|recently\s+|sadly\s+|suddenly\s+)*died\b"
    r"|\bno\s+longer\s+with\s+us\b",
    # Someone at risk: self-harm or suicide, abuse at home, a customer in danger. A person
    # answers, and the customer is pointed to emergency help first (``wording.CRISIS``).
    "crisis": r"\bsuicid(?!\w*\s+squad)\w*|\bkill\s+(?:my|him|her|them)sel(?:f|ves)\b"
    r"|\bend(?:ing)?\s+(?:my\s+(?:own\s+)?life|it\s+all)\b|\btake\s+my\s+(?:own\s+)?life\b"
    r"|\bself[-\s]?harm\w*|\bharm(?:ing)?\s+myself\b"
    r"|\b(?:want|wanted|going)\s+to\s+die\b(?!\s+(?:of|if|when|laughing)\b)"
    # "I don't want to live anymore", not "…to live in this flat anymore".
    r"|\b(?:don[’']?t|do\s+not)\s+want\s+to\s+(?:live|be\s+alive|be\s+here)"
    r"(?:\s+any\s*more|\s*[.!,;]|\s*$)"
    r"|\bno\s+(?:reason|point)\s+(?:to|in)\s+living\b|\bdomestic\s+(?:abuse|violence)\b"
    rf"|\b(?:abusive|violent)\s+(?:{_PARTNER}|relationship)\b"
    rf"|\b{_PARTNER}\s+(?:is|was|has\s+been)\s+(?:abusive|violent)\b"
    rf"|\b(?:being|been)\s+abused\s+(?:at\s+home|by\s+(?:my|our)\s+(?:{_PARTNER}|family))\b"
    r"|\b(?:fear|afraid|scared)\s+for\s+my\s+(?:life|safety)\b"
    r"|\b(?:i\s+am|i[’']?m|we\s+are|we[’']?re)\s+in\s+danger\b(?!\s+of\b)",
}
# The topics of a customer's life, not of their order: a person always answers them, and the
# customer hears a line of care first (``bot.wording.with_care``).
CARE_TOPICS = frozenset({"bereavement", "crisis"})
TOPIC_ALIASES = {"contract_cancel": "cancellation"}
SHOUTING_BOOST = 0.3
REPEAT_BOOST = 0.3
MILD = 0.4  # a turn at this level or above is mildly negative
CALM = 0.25  # thanks at this level or above may be sarcastic ("thanks for wasting my afternoon")
# The rest of a message with calm words reads calm under this level of the frustration head:
# above its own threshold (0.5), chosen on the development sets (at 0.5 the calm words held for
# fewer sincere customers and caught no more frustrated ones).
REST_CALM = 0.7
# What went wrong, told before the words that say it is solved, must not read frustrated: the
# head's own threshold (a stricter bar than the calm words': this path overrides a whole
# message that reads mildly negative or worse).
SOLVED_REST_CALM = 0.5
# The most a disclaimer, a calm acceptance or a question about a case reads (``bot.calm_words``).
CALM_WORDS_LEVEL = 0.2
# A question about a case the head reads at this level or above keeps its level: the head reads
# the bad case in calm ones at 0.5-0.85, and rhetoric higher.
WHAT_IF_CEILING = 0.9


def settled(text: str, signals: Signals, reading: Reading | None = None) -> bool:
    """The latest message settles the matter: it thanks calmly (``thanks_calmly``); says the
    customer is not upset or accepts calmly, and the rest of it reads calm (``settling_words``;
    ``reading`` is the heads' reading of the message); or says the problem is solved
    (``resolved``) with no negative word ("finally came through, ridiculous service" does not)
    and without reading even mildly negative (under ``MILD``), or closes on it with the rest
    reading calm (``told_calmly``: "my partner booked it for the day we move out. my bad, all
    sorted"). It never rejects an answer or counts contacts. What came before, the customer has
    put behind them. A question about a case reads calm but settles nothing: a customer upset
    earlier may ask one."""
    text = plain(text)
    if NOT_HELPFUL.search(text) or REPEAT_CONTACT.search(text):
        return False
    if thanks_calmly(text, signals):
        return True
    if settling_words(text) and _rest_calm(reading):
        return True
    if lexical_frustration(text) or not resolved(text):
        return False
    return signals.frustration < MILD or told_calmly(reading)


def told_calmly(reading: Reading | None) -> bool:
    """The message closes on the words that say the problem is solved, and the rest of it (what
    went wrong, told on the way: ``Reading.solved_rest``) does not read frustrated (under
    ``SOLVED_REST_CALM``, the head's own threshold)."""
    return (
        reading is not None
        and reading.solved_rest is not None
        and reading.solved_rest < SOLVED_REST_CALM
    )


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


def frustration(text: str, reading: Reading | None = None) -> float:
    """How frustrated one message sounds, 0 (calm) to 1; 0.5 is where a person should look.

    The frustration head's level when heads are loaded (else the lexicon), raised by shouting,
    counting contacts ("third time") and, unless a learned lexical head read them already,
    runs of ``!``/``?``. A message that says the customer is not upset, accepts calmly or asks
    what happens in a case, and whose rest reads calm (``said_calmly``), reads calm: the head
    reads "angry" in "not angry".
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
    if said_calmly(text, reading):
        score = min(score, CALM_WORDS_LEVEL)
    return max(0.0, min(1.0, score))


def said_calmly(text: str, reading: Reading | None = None) -> bool:
    """The customer disclaims being upset, accepts calmly or asks what happens in a case
    (``bot.calm_words``), and the rest of the message, read by the frustration head without
    those words, is calm too (when a head read it): the head reads "angry" in "not angry",
    disappointment in "a shame" and the bad case in "if the ferry is cancelled, do we get our
    money back?", but "that's fine, I'll do a chargeback" is not calm."""
    return (settling_words(text) or _asks_what_if_calmly(text, reading)) and _rest_calm(reading)


def settling_words(text: str) -> bool:
    """The calm words that settle a conversation: a disclaimer or a calm acceptance (a question
    about a case reads calm but settles nothing: a customer upset earlier may ask one)."""
    return disclaims(text) or accepts(text)


def _rest_calm(reading: Reading | None) -> bool:
    """The rest of the message, without its calm words, reads calm (when a head read it)."""
    return reading is None or reading.rest is None or reading.rest < REST_CALM


def _asks_what_if_calmly(text: str, reading: Reading | None) -> bool:
    """A question about a case (``asks_what_if``) that the head does not read as strongly
    frustrated (under ``WHAT_IF_CEILING``): its word lists cannot hold every rhetorical turn."""
    if not asks_what_if(text):
        return False
    head = reading.levels.get("frustration") if reading is not None else None
    return head is None or head < WHAT_IF_CEILING


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
    calmly, "ah that worked, thank you!", not "thanks for nothing"; says the problem is
    solved; says the customer is not upset or accepts calmly) is read on its own before these
    rules (``bot.policy.conversation_signals``);
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
