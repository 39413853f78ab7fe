"""Masking before sending, unmasking in what comes back."""

from __future__ import annotations

from integrations.llm.privacy import Masker


def test_mask_and_unmask_round_trip() -> None:
    masker = Masker(patterns=[r"\bIBAN \w+"])
    text = "Mail jane@mail.example or +44 20 7946 0958, IBAN DE89370400440532013000."
    masked = masker.mask(text)
    assert masked == "Mail [EMAIL_1] or [PHONE_1], [PRIVATE_1]."
    assert masker.mask("again jane@mail.example") == "again [EMAIL_1]"  # stable placeholders
    assert masker.unmask(masked) == text
    assert masker.unmask("[EMAIL_1] [PHONE_1]", redacted=True) == "j***@mail.example ********0958"


def test_unknown_placeholders_are_left_and_reported() -> None:
    masker = Masker()
    masker.mask("a@b.example")
    assert masker.unmask("[EMAIL_1] [EMAIL_2]") == "a@b.example [EMAIL_2]"
    assert masker.unknown_placeholders("[EMAIL_1] [EMAIL_2]") == ["[EMAIL_2]"]


def test_disabled_masker_sends_text_as_is() -> None:
    masker = Masker(enabled=False)
    assert masker.mask("jane@mail.example") == "jane@mail.example"
