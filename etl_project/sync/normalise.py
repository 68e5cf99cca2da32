"""Canonical forms the sync compares: emails lower-cased and trimmed, phones in E.164, names trimmed, tags a set."""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_SPACES = re.compile(r"\s+")


def normalise_email(value: str | None) -> str | None:
    """`'  Ann.Lee@Example.COM '` → `'ann.lee@example.com'`; None when empty or not an address."""
    if value is None:
        return None
    candidate = value.strip().lower()
    if not candidate:
        return None
    try:
        validate_email(candidate, check_deliverability=False)
    except EmailNotValidError:
        return None
    return candidate


def normalise_phone(value: str | None, default_region: str = "US") -> str | None:
    """Any written form → E.164 (`+1 (212) 201-0020`, `12122010020`, `212.201.0020` → `+12122010020`).

    Digits-only numbers longer than a national number are read as international (WhatsApp stores them that way).
    Returns None for what is not a valid number, rather than guessing.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+") and len(digits) > 10:
        text = "+" + digits  # international digits without '+' (SendApp numbers)
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_name(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = _SPACES.sub(" ", value).strip()
    return cleaned or None


def normalise_tags(values: Iterable[str] | None) -> frozenset[str]:
    """Tags compare case-insensitively and without surrounding spaces; empty tags are dropped."""
    return frozenset(t.strip().lower() for t in (values or ()) if t and t.strip())
