"""Pydantic models of SendApp records (the modeled contract; field names also listed in `settings.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from etl_project.platforms.validation import OptionalEmail


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class Contact(_Record):
    id: int
    first_name: str | None = None
    last_name: str | None = None
    number: str = Field(pattern=r"^\d{8,15}$", description="international digits, no '+'")
    email: OptionalEmail = None
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


class Note(_Record):
    id: int
    contact_id: int
    body: str
    created_at: datetime


class Task(_Record):
    id: int
    contact_id: int
    title: str
    due_at: datetime | None = None
    status: Literal["open", "done"]
    updated_at: datetime
