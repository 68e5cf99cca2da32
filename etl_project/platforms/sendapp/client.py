"""SendApp client over the modeled contact API (see `settings.py`) and the documented WhatsApp send endpoint."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from etl_project.platforms import errors
from etl_project.platforms.fields import FUTURE_SLACK, iso_utc, parse_instant
from etl_project.platforms.http import ApiClient, RetryPolicy
from etl_project.platforms.pacing import IntervalPacer
from etl_project.platforms.sendapp import models
from etl_project.platforms.sendapp import settings as s
from etl_project.platforms.validation import Parsed, parse_records


class SendAppClient(ApiClient):
    platform = "sendapp"

    def __init__(
        self,
        http: httpx.Client,
        api_key: str,
        *,
        min_interval: float = s.DEFAULT_MIN_INTERVAL,
        retry: RetryPolicy | None = None,
        pacer: IntervalPacer | None = None,
        **kwargs: Any,
    ) -> None:
        http.headers[s.AUTH_HEADER] = api_key
        http.headers.setdefault("Accept", "application/json")
        super().__init__(http, pacer=pacer or IntervalPacer(min_interval), retry=retry, **kwargs)

    # -- contacts --------------------------------------------------------------------------------------------
    def iter_contacts_updated(
        self, start: datetime, end: datetime, per_page: int = s.MAX_PER_PAGE
    ) -> Iterator[Parsed[models.Contact]]:
        """Pages of contacts with `updated_at` in [start, end): `updated_since` filters, ascending order lets
        the pager stop at `end`."""
        page, previous = 1, None
        while True:
            params = {s.PARAM_PAGE: page, s.PARAM_PER_PAGE: per_page, s.PARAM_UPDATED_SINCE: iso_utc(start)}
            body = self.request("GET", s.CONTACTS, params=params).json()
            raws = body.get(s.ENVELOPE) or []
            in_window = [r for r in raws if _in_window(r, end)]
            if in_window:
                yield parse_records(models.Contact, in_window)
            more = bool((body.get("meta") or {}).get("has_more"))
            if not more or len(in_window) < len(raws):
                return
            # `has_more` with nothing on the page, or the same page again, would otherwise be read forever.
            if not raws:
                raise self._paging_error(f"has_more is true on empty page {page}; stopped paging")
            if raws == previous:
                raise self._paging_error(f"page {page} repeats page {page - 1}; stopped paging")
            previous = raws
            page += 1

    def _paging_error(self, message: str) -> errors.PlatformError:
        return errors.PlatformError(self.platform, message, method="GET", path=s.CONTACTS)

    def get_contact(self, contact_id: int) -> dict[str, Any]:
        return self.request("GET", s.CONTACT.format(contact_id=contact_id)).json()[s.ENVELOPE]

    def create_contact(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", s.CONTACTS, json=dict(fields)).json()[s.ENVELOPE]

    def update_contact(self, contact_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PUT", s.CONTACT.format(contact_id=contact_id), json=dict(fields)).json()[s.ENVELOPE]

    def delete_contact(self, contact_id: int) -> None:
        self.request("DELETE", s.CONTACT.format(contact_id=contact_id))

    def add_tags(self, contact_id: int, tags: list[str]) -> list[str]:
        path = s.CONTACT_TAGS.format(contact_id=contact_id)
        return list(self.request("POST", path, json={"tags": tags}, idempotent=True).json()["tags"])

    def remove_tags(self, contact_id: int, tags: list[str]) -> list[str]:
        return list(
            self.request("DELETE", s.CONTACT_TAGS.format(contact_id=contact_id), json={"tags": tags}).json()["tags"]
        )

    # -- children ------------------------------------------------------------------------------------------
    def get_notes(self, contact_id: int) -> Parsed[models.Note]:
        raws = self.request("GET", s.CONTACT_NOTES.format(contact_id=contact_id)).json()[s.ENVELOPE]
        return parse_records(models.Note, raws)

    def create_note(self, contact_id: int, body: str) -> dict[str, Any]:
        path = s.CONTACT_NOTES.format(contact_id=contact_id)
        return self.request("POST", path, json={"body": body}).json()[s.ENVELOPE]

    def get_tasks(self, contact_id: int) -> Parsed[models.Task]:
        raws = self.request("GET", s.CONTACT_TASKS.format(contact_id=contact_id)).json()[s.ENVELOPE]
        return parse_records(models.Task, raws)

    def create_task(self, contact_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        path = s.CONTACT_TASKS.format(contact_id=contact_id)
        return self.request("POST", path, json=dict(fields)).json()[s.ENVELOPE]

    def update_task(self, contact_id: int, task_id: int, fields: Mapping[str, Any]) -> dict[str, Any]:
        path = s.CONTACT_TASK.format(contact_id=contact_id, task_id=task_id)
        return self.request("PUT", path, json=dict(fields)).json()[s.ENVELOPE]

    # -- messaging -----------------------------------------------------------------------------------------
    def send_template(
        self,
        channel_token: str,
        number: str,
        name: str,
        language: str = "en",
        components: list[dict[str, Any]] | None = None,
    ) -> str:
        body = {
            "token": channel_token,
            "number": number,
            "type": "template",
            "template": {"name": name, "language": {"code": language}, "components": components or []},
        }
        return str(self.request("POST", s.SEND, json=body).json()["message_id"])


def _in_window(record: Any, end: datetime) -> bool:
    """Updated before `end`; or unreadable, or dated in the future (so past every window's end): those go on to
    validation, which quarantines them with the reason, instead of being skipped on every run."""
    try:
        stamp = parse_instant(record["updated_at"])
    except (KeyError, TypeError, ValueError):
        return True
    return stamp < end or stamp > datetime.now(UTC) + FUTURE_SLACK
