"""Personal data masked before anything goes to a provider, and put back in what comes back.

Each distinct email, phone number or settings pattern match becomes a placeholder such as
``[EMAIL_1]``; the same value always gets the same placeholder within one ``Masker``, so the
model can still refer to it, and ``unmask`` restores the original where a draft quotes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.facts import mask_digits, mask_email

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<![\w#])\+?\d[\d ()-]{7,}\d\b")
PLACEHOLDER = re.compile(r"\[(EMAIL|PHONE|PRIVATE)_(\d+)\]")


class Masker:
    """Masks one request's personal data and remembers how to unmask it.

    Args:
        enabled: Mask at all (``TANDEM_LLM__MASK_PERSONAL_DATA``).
        patterns: Extra regular expressions whose matches are private (masked as ``PRIVATE``).
    """

    def __init__(self, *, enabled: bool = True, patterns: Sequence[str] = ()) -> None:
        self.enabled = enabled
        self._kinds: list[tuple[str, re.Pattern[str]]] = [
            *(("PRIVATE", re.compile(p)) for p in patterns),
            ("EMAIL", _EMAIL),
            ("PHONE", _PHONE),
        ]
        self._by_value: dict[str, str] = {}
        self._by_placeholder: dict[str, tuple[str, str]] = {}

    def mask(self, text: str) -> str:
        """The text with every private value replaced by its placeholder."""
        if not self.enabled:
            return text
        for kind, pattern in self._kinds:
            text = pattern.sub(lambda m, k=kind: self._placeholder(k, m.group()), text)  # type: ignore[misc]
        return text

    def _placeholder(self, kind: str, value: str) -> str:
        if PLACEHOLDER.fullmatch(value):
            return value
        if value not in self._by_value:
            count = sum(1 for k, _ in self._by_placeholder.values() if k == kind) + 1
            placeholder = f"[{kind}_{count}]"
            self._by_value[value] = placeholder
            self._by_placeholder[placeholder] = (kind, value)
        return self._by_value[value]

    def unmask(self, text: str, *, redacted: bool = False) -> str:
        """Put the original values back (``redacted``: their masked forms, as cards show them).

        Placeholders this masker never made are left as they are (the grounding check flags
        them)."""
        show: Callable[[str, str], str] = _redacted if redacted else (lambda _kind, value: value)
        return PLACEHOLDER.sub(
            lambda m: (
                show(*self._by_placeholder[m.group()])
                if m.group() in self._by_placeholder
                else m.group()
            ),
            text,
        )

    def unknown_placeholders(self, text: str) -> list[str]:
        """Placeholders in ``text`` that this masker never made (a model's invention)."""
        made = self._by_placeholder
        return [m.group() for m in PLACEHOLDER.finditer(text) if m.group() not in made]

    @property
    def masked_values(self) -> tuple[str, ...]:
        return tuple(self._by_value)


def _redacted(kind: str, value: str) -> str:
    if kind == "EMAIL":
        return mask_email(value)
    if kind == "PHONE":
        return mask_digits(value)
    return "*" * min(len(value), 8)
