"""Pydantic models of HighLevel records as the Contacts API v2 returns them.

Unknown fields are kept (`extra="allow"`): the raw payload is landed as it came, these models only check what
the sync relies on. Emails are checked for syntax only; normalising them is the sync layer's job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from etl_project.platforms.validation import OptionalEmail


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
    phone: str | None = None
    companyName: str | None = None
    type: str | None = None
    source: str | None = None
    dnd: bool | None = None
    tags: list[str] = Field(default_factory=list)
    customFields: list[CustomFieldValue] = Field(default_factory=list)
    dateAdded: datetime
    dateUpdated: datetime | None = None

    @property
    def updated_at(self) -> datetime:
        return self.dateUpdated or self.dateAdded


class Task(_Record):
    id: str = Field(min_length=1)
    title: str
    body: str | None = None
    assignedTo: str | None = None
    dueDate: datetime
    completed: bool = False
    contactId: str | None = None


class Note(_Record):
    id: str = Field(min_length=1)
    body: str
    userId: str | None = None
    dateAdded: datetime
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
    startTime: datetime
    endTime: datetime | None = None
    dateAdded: datetime | None = None
    dateUpdated: datetime | None = None
