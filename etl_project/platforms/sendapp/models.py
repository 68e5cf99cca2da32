"""Pydantic models of SendApp records (the modeled contract; field names also listed in `settings.py`).

Timestamps may come as ISO strings with or without a zone, or epoch seconds/milliseconds: a zone-less time is read
as UTC, and every form lands as the same instant (`platforms/fields.py`). Ids are whole numbers (or their digits
as a string): every path the client builds needs one, so a record with any other id is quarantined here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from etl_project.platforms.fields import Instant, RecordTime, check_international
from etl_project.platforms.validation import OptionalEmail


def _numeric_id(value: Any) -> Any:
    # pydantic would read `true` as 1 and `12.0` as 12: an id is digits, nothing else.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise ValueError(f"not a numeric id: {str(value)[:30]!r}")


NumericId = Annotated[int, BeforeValidator(_numeric_id)]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class Contact(_Record):
    id: NumericId
    first_name: str | None = None
    last_name: str | None = None
    number: Annotated[
        str,
        Field(pattern=r"^\d{8,15}$", description="international digits, no '+'"),
        AfterValidator(check_international),
    ]
    email: OptionalEmail = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    created_at: RecordTime
    updated_at: RecordTime


class Note(_Record):
    id: NumericId
    contact_id: NumericId
    body: str
    created_at: RecordTime


class Task(_Record):
    id: NumericId
    contact_id: NumericId
    title: str
    due_at: Instant | None = None
    status: Literal["open", "done"]
    updated_at: RecordTime
