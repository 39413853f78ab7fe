"""The grounding check: every number, price, duration, date, URL, email and phone number in a
model's text must appear in the passages or the conversation it was given.

A claim that cannot be found is *unverified*; the card shows it in an ``unverified: …``
warning, or the draft is replaced by the extractive one (``TANDEM_LLM__ON_UNVERIFIED``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from integrations.llm.privacy import PLACEHOLDER

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'`\]\[)(]+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<![\w#])\+?\d[\d ()-]{7,}\d\b")
_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_DATE_MD = re.compile(rf"\b{_MONTH}\s+{_DAY}\b(?:,?\s+(\d{{4}}))?", re.IGNORECASE)
_DATE_DM = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+(\d{{4}}))?", re.IGNORECASE)
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DATE_SLASH = re.compile(r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MONEY = (
    r"(?:%|€|\$|£|percent\b|prozent\b|pour ?cent\b|eur\b|usd\b|gbp\b|euros?\b|dollars?\b|pounds?\b)"
)
_AMOUNT = re.compile(rf"[$€£]\s?\d+(?:[.,]\d+)*|\d+(?:[.,]\d+)*\s?{_MONEY}", re.IGNORECASE)
_LIST_MARKER = re.compile(r"^(\s*)\d{1,2}[.)](?=\s)", re.MULTILINE)
_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90,
    "hundred": 100,
}  # fmt: skip
_UNITS = (
    r"(?:business\s+|working\s+|calendar\s+)?"
    r"(?:days?|weeks?|months?|years?|hours?|minutes?|percent|dollars?|euros?|pounds?)"
)
_WORD_NUMBER = re.compile(rf"\b({'|'.join(_WORDS)})[\s-]+{_UNITS}\b", re.IGNORECASE)
_WORD_AMOUNT = re.compile(rf"\b({'|'.join(_WORDS)})[\s-]+{_MONEY}", re.IGNORECASE)
_ANY_WORD_NUMBER = re.compile(rf"\b({'|'.join(_WORDS)})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Grounding:
    """The result of a check: the claims found nowhere in the sources, in order."""

    unverified: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.unverified

    @property
    def warning(self) -> str:
        """The card's warning, e.g. ``unverified: $25, https://x.example`` (empty when ok)."""
        return f"unverified: {', '.join(self.unverified)}" if self.unverified else ""


def _month(name: str) -> int:
    return next(i for i, m in enumerate(_MONTHS, 1) if m.startswith(name.lower()[:3]))


def _dates(text: str) -> tuple[set[tuple[int | None, int, int]], str]:
    """Dates in the text as (year, month, day), and the text with them blanked out."""
    found: set[tuple[int | None, int, int]] = set()

    def keep(year: str | None, month: int, day: str) -> str:
        found.add((int(year) if year else None, month, int(day)))
        return " "

    text = _DATE_ISO.sub(lambda m: keep(m.group(1), int(m.group(2)), m.group(3)), text)
    text = _DATE_MD.sub(lambda m: keep(m.group(3), _month(m.group(1)), m.group(2)), text)
    text = _DATE_DM.sub(lambda m: keep(m.group(3), _month(m.group(2)), m.group(1)), text)
    return found, text


def _number(token: str) -> float | None:
    digits = token
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", digits):
        digits = digits.replace(",", "")
    try:
        return float(digits.replace(",", "."))
    except ValueError:
        return None


def _norm_url(url: str) -> str:
    url = url.rstrip(".,;:!?'\"").lower()
    return re.sub(r"^https?://(www\.)?|^www\.", "", url).rstrip("/")


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


class SourceIndex:
    """What the sources say, indexed for the check (built once per draft)."""

    def __init__(self, sources: Iterable[str]) -> None:
        text = "\n".join(sources)
        self.text = text.lower()
        self.urls = {_norm_url(u) for u in _URL.findall(text)}
        self.emails = {e.lower() for e in _EMAIL.findall(text)}
        self.phones = {_digits(p) for p in _PHONE.findall(text)}
        self.dates, rest = _dates(text)
        self.numbers = {n for t in re.findall(r"\d+(?:[.,]\d+)*", text) if (n := _number(t))}
        self.numbers |= {float(_WORDS[w.lower()]) for w in _ANY_WORD_NUMBER.findall(text)}
        self.numbers |= {0.0}

    def has_date(self, date: tuple[int | None, int, int]) -> bool:
        year, month, day = date
        return any(
            (m, d) == (month, day) and (year is None or y is None or y == year)
            for y, m, d in self.dates
        )


def check(text: str, passages: Iterable[str], conversation: Iterable[str] = ()) -> Grounding:
    """Find the claims in ``text`` (a draft or an answer) that the sources do not support.

    Links, prices and percentages must come from the ``passages`` (a customer's message cannot
    make a link or an amount true); other numbers, dates, emails and phone numbers may come
    from the ``conversation`` too (an order number, the customer's own email).
    """
    passages = list(passages)
    stated = SourceIndex(passages)
    index = SourceIndex([*passages, *conversation])
    unverified: list[str] = []
    unverified.extend(m.group() for m in PLACEHOLDER.finditer(text))
    text = PLACEHOLDER.sub(" ", text)

    def scan(pattern: re.Pattern[str], supported: object, body: str) -> str:
        def one(match: re.Match[str]) -> str:
            if not supported(match.group()):  # type: ignore[operator]
                unverified.append(match.group().rstrip(".,;:!?"))
            return " "

        return pattern.sub(one, body)

    text = scan(_URL, lambda u: _norm_url(u) in stated.urls or _norm_url(u) in stated.text, text)
    text = scan(_EMAIL, lambda e: e.lower() in index.emails, text)
    text = scan(_DATE_SLASH, lambda d: d in index.text, text)
    text = _dates_checked(text, index, unverified)
    text = scan(_PHONE, lambda p: _digits(p) in index.phones or p in index.text, text)
    text = _LIST_MARKER.sub(r"\1", text)
    text = scan(_AMOUNT, lambda a: _amount(a) in stated.numbers, text)
    text = scan(_NUMBER, lambda n: _number(n) in index.numbers, text)
    text = scan(_WORD_AMOUNT, lambda w: _word_value(w) in stated.numbers, text)
    scan(_WORD_NUMBER, lambda w: _word_value(w) in index.numbers, text)
    return Grounding(tuple(dict.fromkeys(unverified)))


def _dates_checked(text: str, index: SourceIndex, unverified: list[str]) -> str:
    for pattern, parts in (
        (_DATE_ISO, lambda m: (int(m.group(1)), int(m.group(2)), int(m.group(3)))),
        (_DATE_MD, lambda m: (_year(m.group(3)), _month(m.group(1)), int(m.group(2)))),
        (_DATE_DM, lambda m: (_year(m.group(3)), _month(m.group(2)), int(m.group(1)))),
    ):

        def one(match: re.Match[str], parts: object = parts) -> str:
            if not index.has_date(parts(match)):  # type: ignore[operator]
                unverified.append(match.group())
            return " "

        text = pattern.sub(one, text)
    return text


def _amount(token: str) -> float:
    found = _NUMBER.search(token)
    return (_number(found.group()) if found else None) or -1.0


def _word_value(words: str) -> float:
    return float(_WORDS[re.split(r"[\s-]", words)[0].lower()])


def _year(value: str | None) -> int | None:
    return int(value) if value else None


_PROMISE = re.compile(
    r"\b(refund|reimburs|compensat|guarantee|voucher|discount|free of charge|waive|"
    r"store credit|exception|rückerstatt|erstatt|gutschein|rabatt|entschädig|rembours|"
    r"réduction|reembols|descuento)\w*",
    re.IGNORECASE,
)


def promises(text: str, passages: Iterable[str]) -> list[str]:
    """Promises (a refund, compensation, an exception…) the passages do not mention: the
    customer asking for one does not ground it."""
    said = " ".join(passages).lower()
    return [
        f"promise of {m.group(1).lower()}"
        for m in _PROMISE.finditer(text)
        if m.group(1).lower() not in said
    ]
