"""Turn raw JSON records into pydantic models, keeping every record that fails with its reason."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ValidationError

from etl_project.platforms.fields import landed_form

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
            record = model.model_validate(raw)
        except ValidationError as exc:
            rid = raw.get("id")
            parsed.rejected.append(Rejected(str(rid) if rid is not None else None, describe(exc), raw))
            continue
        parsed.valid.append((record, _with_landed_times(record, raw)))
    return parsed


def _with_landed_times(record: BaseModel, raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """The payload to land: as received, except timestamps SQL would misread (no zone, epoch numbers), which are
    replaced by the validated instant in ISO UTC. A payload already in canonical form stays byte-identical."""
    fixed = {
        name: landed_form(raw[name], value)
        for name in type(record).model_fields
        if name in raw and isinstance(value := getattr(record, name), datetime)
    }
    changed = {k: v for k, v in fixed.items() if v is not raw[k]}
    return {**raw, **changed} if changed else raw


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
