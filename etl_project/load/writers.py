"""One contact writer per target platform: create, update, delete and look up a contact through its client.

A writer returns the record's id and the platform's update time after the write (the snapshot's version).
`lookup` finds a record an earlier create may have made although its response was lost (crash, timeout).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from etl_project.platforms.errors import NotFoundError
from etl_project.platforms.fields import instant_or_none
from etl_project.platforms.highlevel import HighLevelClient
from etl_project.platforms.highlevel.models import contact_updated
from etl_project.platforms.sendapp import SendAppClient

# How far before the first attempt a look-up searches (clock skew between us and the platform).
LOOKUP_MARGIN = timedelta(minutes=10)


@dataclass(frozen=True)
class Written:
    target_id: str
    version: datetime | None


class TargetWriter(Protocol):
    platform: str

    def create(self, payload: Mapping[str, Any]) -> Written: ...
    def update(self, target_id: str, payload: Mapping[str, Any]) -> Written: ...
    def delete(self, target_id: str) -> None: ...
    def lookup(self, payload: Mapping[str, Any], since: datetime | None) -> str | None: ...


class SendAppWriter:
    platform = "sendapp"

    def __init__(self, client: SendAppClient) -> None:
        self.client = client

    def create(self, payload: Mapping[str, Any]) -> Written:
        record = self.client.create_contact(payload)
        return Written(str(record["id"]), instant_or_none(record.get("updated_at")))

    def update(self, target_id: str, payload: Mapping[str, Any]) -> Written:
        record = self.client.update_contact(int(target_id), payload)
        return Written(str(record["id"]), instant_or_none(record.get("updated_at")))

    def delete(self, target_id: str) -> None:
        with contextlib.suppress(NotFoundError):  # already gone: the goal of the operation holds
            self.client.delete_contact(int(target_id))

    def lookup(self, payload: Mapping[str, Any], since: datetime | None) -> str | None:
        """SendApp has no search: a record created by a lost response was updated at or after the first try,
        so the contacts updated since then are read and matched on the number (SendApp's unique key)."""
        number = str(payload.get("number") or "")
        if not number:
            return None
        start = (since or datetime.now(UTC)) - LOOKUP_MARGIN
        for page in self.client.iter_contacts_updated(start, datetime.now(UTC) + LOOKUP_MARGIN):
            for contact, _raw in page.valid:
                if contact.number == number:
                    return str(contact.id)
        return None


class HighLevelWriter:
    platform = "highlevel"

    def __init__(self, client: HighLevelClient) -> None:
        self.client = client

    def create(self, payload: Mapping[str, Any]) -> Written:
        record = self.client.create_contact(payload)
        return Written(str(record["id"]), instant_or_none(contact_updated(record)))

    def update(self, target_id: str, payload: Mapping[str, Any]) -> Written:
        record = self.client.update_contact(target_id, payload)
        return Written(str(record.get("id", target_id)), instant_or_none(record.get("dateUpdated")))

    def delete(self, target_id: str) -> None:
        with contextlib.suppress(NotFoundError):
            self.client.delete_contact(target_id)

    def lookup(self, payload: Mapping[str, Any], since: datetime | None) -> str | None:
        """HighLevel's duplicate search by email, then by phone (the location's duplicate rule)."""
        for key, value in (("email", payload.get("email")), ("number", payload.get("phone"))):
            if value:
                found = self.client.find_duplicate(**{key: str(value)})
                if found and found.get("id"):
                    return str(found["id"])
        return None


def contact_writer(platform: str, client: object) -> TargetWriter:
    """The contact writer for a target platform, around its client."""
    if platform == "sendapp":
        return SendAppWriter(cast(SendAppClient, client))
    if platform == "highlevel":
        return HighLevelWriter(cast(HighLevelClient, client))
    raise ValueError(f"no contact writer for {platform}")
