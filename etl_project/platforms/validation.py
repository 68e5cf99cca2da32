"""Turn raw JSON records into pydantic models, keeping every record that fails with its reason."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Rejected:
    """A record that failed validation: the payload as received and a readable reason."""

    record_id: str | None
    reason: str
    payload: Mapping[str, Any]


@dataclass
class Parsed(Generic[M]):
    """One page of records split into valid models (paired with their raw payload) and rejects."""

    valid: list[tuple[M, Mapping[str, Any]]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse_records(model: type[M], raws: Iterable[Any]) -> Parsed[M]:
    parsed: Parsed[M] = Parsed()
    for raw in raws:
        if not isinstance(raw, Mapping):
            parsed.rejected.append(Rejected(None, f"record is not an object: {type(raw).__name__}", {"value": raw}))
            continue
        try:
            parsed.valid.append((model.model_validate(raw), raw))
        except ValidationError as exc:
            rid = raw.get("id")
            parsed.rejected.append(Rejected(str(rid) if rid is not None else None, describe(exc), raw))
    return parsed


def email_syntax(value: str | None) -> str | None:
    """Check an address's syntax only (no DNS); keep the value as received: normalising is the sync's job."""
    if value is None or not value.strip():
        return None
    try:
        validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address ({exc})") from None
    return value


OptionalEmail = Annotated[str | None, AfterValidator(email_syntax)]
