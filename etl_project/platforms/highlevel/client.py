"""HighLevel Contacts API v2 client (https://highlevel.stoplight.io/docs/integrations/, `apps/contacts.json`).

Every call goes through `ApiClient.request`; this module only knows paths, bodies and envelopes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Literal

import httpx

from etl_project.platforms import errors
from etl_project.platforms.fields import iso_utc
from etl_project.platforms.highlevel import models
from etl_project.platforms.highlevel.settings import CONTACTS_VERSION, MAX_PAGE_LIMIT
from etl_project.platforms.http import ApiClient, ErrorBody, RetryPolicy
from etl_project.platforms.pacing import WindowPacer
from etl_project.platforms.validation import Parsed, parse_records

DateFormat = Literal["iso", "epoch_ms"]


def format_search_date(value: datetime, fmt: DateFormat) -> str | int:
    """HighLevel's docs do not settle ISO strings vs epoch ms in range filters (UNCERTAIN): configurable."""
    if fmt == "epoch_ms":
        return int(value.timestamp() * 1000)
    return iso_utc(value)


def _without(record: Any, key: str) -> Any:
    return {k: v for k, v in record.items() if k != key} if isinstance(record, dict) else record


class HighLevelClient(ApiClient):
    platform = "highlevel"

    def __init__(
        self,
        http: httpx.Client,
        location_id: str,
        *,
        pacer: WindowPacer | None = None,
        retry: RetryPolicy | None = None,
        daily_reserve: int = 1_000,
        search_date_format: DateFormat = "iso",
        page_limit: int = MAX_PAGE_LIMIT,
        **kwargs: Any,
    ) -> None:
        http.headers.setdefault("Version", CONTACTS_VERSION)
        http.headers.setdefault("Accept", "application/json")
        self.window_pacer = pacer or WindowPacer()
        super().__init__(http, pacer=self.window_pacer, retry=retry, **kwargs)
        self.location_id = location_id
        self.daily_reserve = daily_reserve
        self.search_date_format: DateFormat = search_date_format
        self.page_limit = min(page_limit, MAX_PAGE_LIMIT)

    # -- hooks -----------------------------------------------------------------------------------------------
    def parse_error_body(self, response: httpx.Response) -> ErrorBody:
        body = super().parse_error_body(response)
        # 422 bodies carry a list of messages: keep them all, readable.
        if isinstance(body.details, dict) and isinstance(body.details.get("message"), list):
            return ErrorBody("; ".join(map(str, body.details["message"])), body.trace_id, body.details)
        return body

    def check_response(self, response: httpx.Response, method: str, path: str) -> None:
        remaining = self.window_pacer.last.daily_remaining
        if remaining is not None and remaining < self.daily_reserve:
            raise errors.DailyBudgetExhaustedError(
                self.platform,
                f"only {remaining} requests left of today's budget (reserve {self.daily_reserve}); stopping",
                status_code=response.status_code,
                method=method,
                path=path,
            )

    @property
    def daily_remaining(self) -> int | None:
        return self.window_pacer.last.daily_remaining

    def ensure_daily_budget(self, needed: int) -> None:
        """Stop before a batch of `needed` requests that today's remaining budget cannot cover."""
        remaining = self.daily_remaining
        if remaining is not None and remaining - needed < self.daily_reserve:
            raise errors.DailyBudgetExhaustedError(
                self.platform,
                f"{needed} requests needed but only {remaining} left today (reserve {self.daily_reserve})",
            )

    # -- contacts --------------------------------------------------------------------------------------------
    def search_contacts(self, body: Mapping[str, Any]) -> dict[str, Any]:
        payload = {"locationId": self.location_id, **body}
        return self.request("POST", "/contacts/search", json=payload, idempotent=True).json()

    def iter_contacts_updated(
        self, start: datetime, end: datetime, field: str = "dateUpdated"
    ) -> Iterator[Parsed[models.Contact]]:
        """Pages of contacts whose `field` lies in [start, end), oldest first, via `searchAfter` paging."""
        body: dict[str, Any] = {
            "pageLimit": self.page_limit,
            "filters": [
                {
                    "field": field,
                    "operator": "range",
                    "value": {
                        "gte": format_search_date(start, self.search_date_format),
                        "lt": format_search_date(end, self.search_date_format),
                    },
                }
            ],
            "sort": [{"field": field, "direction": "asc"}],
        }
        seen: set[str] = set()
        while True:
            page = self.search_contacts(body)
            raws = page.get("contacts") or []
            if raws:
                # `searchAfter` is a paging marker, not contact data: it must not make a version look changed.
                yield parse_records(models.Contact, [_without(r, "searchAfter") for r in raws])
            if len(raws) < self.page_limit:
                return
            last = raws[-1].get("searchAfter") if isinstance(raws[-1], dict) else None
            if not last:
                raise self._paging_error("search page without searchAfter; cannot continue")
            marker = json.dumps(last, sort_keys=True, default=str)
            if marker in seen:
                # A marker that does not advance would return the same page forever.
                raise self._paging_error(f"searchAfter {marker[:80]} did not advance; stopped paging")
            seen.add(marker)
            body["searchAfter"] = last

    def _paging_error(self, message: str) -> errors.PlatformError:
        return errors.PlatformError(self.platform, message, method="POST", path="/contacts/search")

    def get_contact(self, contact_id: str) -> dict[str, Any]:
        return self.request("GET", f"/contacts/{contact_id}").json()["contact"]

    def create_contact(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        body = {"locationId": self.location_id, **fields}
        return self.request("POST", "/contacts/", json=body).json()["contact"]

    def update_contact(self, contact_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"/contacts/{contact_id}", json=dict(fields)).json()["contact"]

    def delete_contact(self, contact_id: str) -> None:
        self.request("DELETE", f"/contacts/{contact_id}")

    def find_duplicate(self, *, email: str | None = None, number: str | None = None) -> dict[str, Any] | None:
        params = {"locationId": self.location_id}
        if email:
            params["email"] = email
        if number:
            params["number"] = number
        return self.request("GET", "/contacts/search/duplicate", params=params).json().get("contact")

    def add_tags(self, contact_id: str, tags: list[str]) -> list[str]:
        # Adding a tag twice is harmless, so a retry of this POST is safe.
        resp = self.request("POST", f"/contacts/{contact_id}/tags", json={"tags": tags}, idempotent=True)
        return list(resp.json().get("tags", []))

    def remove_tags(self, contact_id: str, tags: list[str]) -> list[str]:
        return list(self.request("DELETE", f"/contacts/{contact_id}/tags", json={"tags": tags}).json().get("tags", []))

    # -- child records (one request per contact and kind: no paging, no date filter) -------------------------
    def get_tasks(self, contact_id: str) -> Parsed[models.Task]:
        return parse_records(models.Task, self.request("GET", f"/contacts/{contact_id}/tasks").json()["tasks"])

    def get_notes(self, contact_id: str) -> Parsed[models.Note]:
        return parse_records(models.Note, self.request("GET", f"/contacts/{contact_id}/notes").json()["notes"])

    def get_appointments(self, contact_id: str) -> Parsed[models.Appointment]:
        raws = self.request("GET", f"/contacts/{contact_id}/appointments").json()["events"]
        return parse_records(models.Appointment, raws)

    def create_task(self, contact_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"/contacts/{contact_id}/tasks", json=dict(fields)).json()["task"]

    def update_task(self, contact_id: str, task_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"/contacts/{contact_id}/tasks/{task_id}", json=dict(fields)).json()["task"]

    def set_task_completed(self, contact_id: str, task_id: str, completed: bool) -> dict[str, Any]:
        path = f"/contacts/{contact_id}/tasks/{task_id}/completed"
        return self.request("PUT", path, json={"completed": completed}).json()["task"]

    def delete_task(self, contact_id: str, task_id: str) -> None:
        self.request("DELETE", f"/contacts/{contact_id}/tasks/{task_id}")

    def create_note(self, contact_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"/contacts/{contact_id}/notes", json=dict(fields)).json()["note"]

    def update_note(self, contact_id: str, note_id: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PUT", f"/contacts/{contact_id}/notes/{note_id}", json=dict(fields)).json()["note"]

    def delete_note(self, contact_id: str, note_id: str) -> None:
        self.request("DELETE", f"/contacts/{contact_id}/notes/{note_id}")
