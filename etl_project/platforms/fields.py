"""Field types shared by the platform models: what a timestamp or a phone must be for a record to land.

The project's one ISO-time formatter (`iso_utc`) and one parser (`parse_instant`, with `instant_or_none` for where
a missing or garbled time must not fail anything) live here; every other module calls them.

Platforms send timestamps as ISO strings with or without a zone, with `T` or a space, or as epoch seconds or
milliseconds. Every form becomes one aware UTC `datetime` here, so nothing downstream compares a naive with an
aware value (which fails a whole extraction step) and nothing lands as NULL. A value that cannot be read, or that
no real record can carry, fails validation: the record is quarantined with that reason, the run goes on.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import AfterValidator, BeforeValidator, PlainSerializer

# Plausible instants. Before 1970 is a zero value (Go's 0001-01-01, a 0 epoch) rather than a date; past 2200 no
# due date or appointment is meant. Both bounds also keep epoch arithmetic far from datetime's overflow.
EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# A creation or update time a platform reports cannot lie in the future. A day of slack absorbs clock skew and a
# zone-less local time read as UTC (at most +14 h); past that the stamp is wrong (seen: year 2999).
FUTURE_SLACK = timedelta(days=1)
# Epoch numbers at or above this are milliseconds: 1e11 seconds is the year 5138, 1e11 ms is 1973.
_EPOCH_MS_FROM = 10**11
_EPOCH_TEXT = re.compile(r"^-?\d+(\.\d+)?$")
# The one string form landed unchanged: DuckDB reads it as the same instant whatever the session time zone.
_CANONICAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")


def parse_instant(value: Any) -> datetime:
    """Read any timestamp form a platform sends as an aware UTC datetime; a zone-less time is taken as UTC.

    Raises ValueError, with the value in the message, for anything else or an implausible instant.
    """
    return _plausible(_read(value), value)


def instant_or_none(value: Any) -> datetime | None:
    """As `parse_instant`, where a time may be missing or unreadable and nothing must fail on it (the update time in
    a write's response): None instead of an error."""
    if value is None or value == "":
        return None
    try:
        return parse_instant(value)
    except ValueError:
        return None


def parse_record_time(value: Any) -> datetime:
    """As `parse_instant`, for when a platform says it created or changed a record: never in the future."""
    parsed = _read(value)
    if parsed > datetime.now(UTC) + FUTURE_SLACK:
        raise ValueError(f"dated in the future: {str(value)[:40]!r}")
    return _plausible(parsed, value)


def _read(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        parsed = _from_epoch(value)
    elif isinstance(value, str) and _EPOCH_TEXT.match(value.strip()):
        parsed = _from_epoch(float(value.strip()))
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not a timestamp: {value[:40]!r}") from None
    else:
        raise ValueError(f"not a timestamp: {type(value).__name__}")
    aware = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return aware.astimezone(UTC)


def _plausible(parsed: datetime, value: Any) -> datetime:
    if not EARLIEST <= parsed < LATEST:
        raise ValueError(f"implausible timestamp: {str(value)[:40]!r}")
    return parsed


def _from_epoch(number: float) -> datetime:
    seconds = number / 1000 if abs(number) >= _EPOCH_MS_FROM else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"implausible timestamp: epoch {number:.0f}") from None


TimeSpec = Literal["auto", "seconds", "milliseconds", "microseconds"]


def iso_utc(value: datetime, *, timespec: TimeSpec = "milliseconds") -> str:
    """ISO 8601 in UTC with `Z`; a naive value is taken as UTC. Milliseconds by default (HighLevel's and SendApp's
    form); "auto" is `isoformat`'s own precision (a fraction only when there is one), for values compared as text
    with ones written that way before."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def landed_form(raw: Any, parsed: datetime) -> Any:
    """The value to land for a parsed timestamp: the raw one when SQL reads it alike, else canonical ISO UTC."""
    return raw if isinstance(raw, str) and _CANONICAL.match(raw) else iso_utc(parsed)


_ser = PlainSerializer(iso_utc, return_type=str, when_used="json")
# A scheduled time (due date, appointment start): any plausible instant, possibly in the future.
Instant = Annotated[datetime, BeforeValidator(parse_instant), _ser]
# When the platform says it created or changed the record. A future stamp would pin the forward-only cursor and
# win every "newer version" comparison forever, so it is quarantined instead of landed.
RecordTime = Annotated[datetime, BeforeValidator(parse_record_time), _ser]

_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")


def check_phone(value: str | None) -> str | None:
    """A phone someone could dial: no letters, 7 to 15 digits, and for international forms a length its country
    code allows (phonenumbers). The value is kept as received; E.164 normalising is the sync's job."""
    if value is None or not value.strip():
        return None
    text = _PHONE_PUNCTUATION.sub("", value.strip())
    if any(c.isalpha() for c in text):
        raise ValueError(f"phone contains letters: {value[:30]!r}")
    digits = text.removeprefix("+")
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"not a phone number: {value[:30]!r}")
    if not 7 <= len(digits) <= 15:
        raise ValueError(f"phone has {len(digits)} digits, not 7 to 15: {value[:30]!r}")
    # International: a '+', or more digits than a national number without a trunk '0' (WhatsApp's form).
    if text.startswith("+") or (len(digits) > 10 and not digits.startswith("0")):
        check_international(digits, value)
    return value


def check_international(digits: str, shown: str | None = None) -> str:
    """International digits (no '+') whose length the country code allows, per phonenumbers."""
    shown = (shown or digits)[:30]
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"not a phone number: {shown!r}") from None
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise ValueError(f"phone has the wrong length for +{number.country_code}: {shown!r}")
    return digits


OptionalPhone = Annotated[str | None, AfterValidator(check_phone)]
