"""Pydantic models of HighLevel records as the Contacts API v2 returns them.

Unknown fields are kept (`extra="allow"`): the raw payload is landed as it came, these models only check what
the sync relies on. Emails are checked for syntax only; normalising them is the sync layer's job.

Timestamps may come as ISO strings with or without a zone, or epoch seconds/milliseconds: a zone-less time is read
as UTC (HighLevel documents its times as UTC), and every form lands as the same instant (`platforms/fields.py`).
A phone must be one someone could dial: a record with a phone of letters or too few digits is quarantined with the
reason rather than landed without its phone, because a dropped phone would reach the golden record as "no phone"
and could be planned out of the other platforms; held in quarantine, the last good version stays in use until the
user fixes the number.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from etl_project.platforms.fields import Instant, OptionalPhone, RecordTime
from etl_project.platforms.validation import OptionalEmail

# When a contact last changed: HighLevel sends no `dateUpdated` for a contact never edited, so its `dateAdded` stands
# in. The one statement of that rule: `Contact.updated_at`, `contact_updated` (a raw payload, e.g. a write's
# response) and the warehouse's SQL (through `warehouse/tables.py`) all read these names, in this order.
CONTACT_UPDATED_FIELDS = ("dateUpdated", "dateAdded")


def contact_updated(record: Mapping[str, Any]) -> Any:
    """A raw contact's update time as sent: the first of `CONTACT_UPDATED_FIELDS` with a value, else None."""
    return next((record[name] for name in CONTACT_UPDATED_FIELDS if record.get(name)), None)


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)


class CustomFieldValue(_Record):
    id: str | None = None
    key: str | None = None
    value: Any = None


class Contact(_Record):
    id: str = Field(min_length=1)
    locationId: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    name: str | None = None
    email: OptionalEmail = None
    phone: OptionalPhone = None
    companyName: str | None = None
    type: str | None = None
    source: str | None = None
    dnd: bool | None = None
    tags: list[str] = Field(default_factory=list)
    customFields: list[CustomFieldValue] = Field(default_factory=list)
    dateAdded: RecordTime
    dateUpdated: RecordTime | None = None

    @property
    def updated_at(self) -> datetime:
        """When the contact last changed: the first of `CONTACT_UPDATED_FIELDS` it has (`dateAdded` always)."""
        return next(getattr(self, name) for name in CONTACT_UPDATED_FIELDS if getattr(self, name) is not None)


class Task(_Record):
    id: str = Field(min_length=1)
    title: str
    body: str | None = None
    assignedTo: str | None = None
    dueDate: Instant
    completed: bool = False
    contactId: str | None = None


class Note(_Record):
    id: str = Field(min_length=1)
    body: str
    userId: str | None = None
    dateAdded: RecordTime
    contactId: str | None = None
    title: str | None = None


class Appointment(_Record):
    id: str = Field(min_length=1)
    calendarId: str | None = None
    contactId: str | None = None
    locationId: str | None = None
    title: str | None = None
    appointmentStatus: str | None = None
    assignedUserId: str | None = None
    startTime: Instant
    endTime: Instant | None = None
    dateAdded: RecordTime | None = None
    dateUpdated: RecordTime | None = None
