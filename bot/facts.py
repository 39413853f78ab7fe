"""Key facts a customer mentions (order numbers, emails, phone numbers, amounts), masked on
request so that agent channels do not spread personal data."""

from __future__ import annotations

import re
from collections.abc import Iterable

_ORDER = re.compile(
    r"(?:\border\s*(?:number|no\.?|#)?\s*:?\s*#?|#)\s*([A-Z]{0,4}-?\d{4,12})\b", re.IGNORECASE
)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<![\w#])\+?\d[\d ()-]{7,}\d\b")
_AMOUNT = re.compile(r"(?:[$€£]\s?\d+(?:[.,]\d{1,2})?|\b\d+(?:[.,]\d{1,2})?\s?(?:USD|EUR|GBP)\b)")


def mask_email(email: str) -> str:
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


def mask_digits(value: str, keep: int = 4) -> str:
    digits = [c for c in value if c.isdigit()]
    return "*" * max(0, len(digits) - keep) + "".join(digits[-keep:])


_TOPIC = "Sensitive: "


def topic_facts(topics: Iterable[str]) -> tuple[str, ...]:
    """A key fact per sensitive topic read in the conversation ("Sensitive: personal data"), so
    the agent sees what kind of case it is before the transcript."""
    return tuple(f"{_TOPIC}{topic.replace('_', ' ')}" for topic in dict.fromkeys(topics))


def topics_of(facts: Iterable[str]) -> tuple[str, ...]:
    """The topics a card's key facts name (``topic_facts`` read back): the topics of a summary
    stored before ``Summary.topics`` held them."""
    return tuple(f[len(_TOPIC) :].replace(" ", "_") for f in facts if f.startswith(_TOPIC))


def key_facts(texts: Iterable[str], *, mask: bool) -> tuple[str, ...]:
    """Facts found in the customer's messages, in order of first mention, without repeats."""
    found: list[str] = []
    for text in texts:
        for match in _ORDER.finditer(text):
            found.append(f"Order {match.group(1).upper()}")
        for match in _EMAIL.finditer(text):
            found.append(f"Email {mask_email(match.group()) if mask else match.group()}")
        for match in _PHONE.finditer(text):
            number = match.group().strip()
            found.append(f"Phone {mask_digits(number) if mask else number}")
        for match in _AMOUNT.finditer(text):
            found.append(f"Amount {match.group()}")
    return tuple(dict.fromkeys(found))


def redact(text: str) -> str:
    """The text with emails and phone numbers masked (used for transcripts on agent cards)."""
    text = _EMAIL.sub(lambda m: mask_email(m.group()), text)
    return _PHONE.sub(lambda m: mask_digits(m.group()), text)


def scrub(text: str) -> str:
    """The text without emails, phone numbers or order numbers, for the knowledge base: what
    one customer wrote becomes a question anyone may match."""
    text = _EMAIL.sub("[email]", text)
    text = _PHONE.sub("[phone]", text)
    return _ORDER.sub(lambda m: m.group().replace(m.group(1), "[order]"), text)
