"""From a verified body to an inbox row, or to the reason it is ignored. Pure: no I/O, the clock is an argument.

An event only says "this record is dirty": the sensor re-reads the record through the API, so only ids are taken
from the body. What a retry cannot fix (a stale or foreign event, a type the sync does not use) is a `Refusal` with
status 200, so HighLevel stops retrying it; a body that is not a JSON object is a 400 (the sender is broken).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from etl_project.webhooks.config import ReceiverConfig
from etl_project.webhooks.inbox import InboxEvent

_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")  # what an event type may look like in a log line

# HighLevel event types the sync uses, by the record kind they name (contracts/webhooks.md).
HIGHLEVEL_KINDS: dict[str, str] = {
    **dict.fromkeys(
        ["ContactCreate", "ContactUpdate", "ContactDelete", "ContactTagUpdate", "ContactDndUpdate"], "contact"
    ),
    **dict.fromkeys(["TaskCreate", "TaskComplete", "TaskDelete"], "task"),
    **dict.fromkeys(["NoteCreate", "NoteUpdate", "NoteDelete"], "note"),
    **dict.fromkeys(["AppointmentCreate", "AppointmentUpdate", "AppointmentDelete"], "appointment"),
    **dict.fromkeys(["INSTALL", "UNINSTALL", "LocationCreate", "LocationUpdate"], "location"),
}


class Refusal(Exception):
    """An answer other than "stored": `status` is the HTTP status, `reason` goes to the log (never the body)."""

    def __init__(self, status: int, reason: str, event_type: str = "?") -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason
        self.event_type = event_type  # the body's `type` when readable: a short safe token for the log


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) and str(value) else None


def _object(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refusal(400, "body is not JSON") from None
    if not isinstance(parsed, dict):
        raise Refusal(400, "body is not a JSON object")
    return parsed


def _check_fresh(payload: dict[str, Any], now: datetime, max_age: int) -> None:
    raw = payload.get("timestamp")
    if not isinstance(raw, str):
        raise Refusal(200, "no timestamp (freshness cannot be checked)")
    try:
        sent = datetime.fromisoformat(raw)
    except ValueError:
        raise Refusal(200, "unreadable timestamp") from None
    sent = sent if sent.tzinfo else sent.replace(tzinfo=UTC)
    age = (now - sent).total_seconds()
    if age > max_age:
        raise Refusal(200, "stale timestamp")
    if age < -max_age:
        raise Refusal(200, "timestamp too far in the future")


def _safe_type(value: Any, default: str = "?") -> str:
    return value if isinstance(value, str) and _TOKEN.fullmatch(value) else default


def highlevel_event(body: bytes, config: ReceiverConfig, now: datetime) -> InboxEvent:
    payload = _object(body)
    try:
        return _highlevel_event(payload, body, config, now)
    except Refusal as refusal:
        raise Refusal(refusal.status, refusal.reason, _safe_type(payload.get("type"))) from None


def _highlevel_event(payload: dict[str, Any], body: bytes, config: ReceiverConfig, now: datetime) -> InboxEvent:
    event_type = _text(payload.get("type")) or ""
    _check_fresh(payload, now, config.max_age_seconds)
    if config.app_id and payload.get("appId") != config.app_id:
        raise Refusal(200, "appId is not this app's")
    location = _text(payload.get("locationId"))
    if location is None or not (config.all_locations or location in config.location_ids):
        raise Refusal(200, "location not configured")
    kind = HIGHLEVEL_KINDS.get(event_type)
    if kind is None:
        raise Refusal(200, "event type not used")
    # Appointment events nest the record under "appointment"; the others are flat.
    nested = payload.get("appointment")
    record: dict[str, Any] = nested if isinstance(nested, dict) else payload
    record_id = location if kind == "location" else _text(record.get("id"))
    contact_id = record_id if kind == "contact" else _text(record.get("contactId"))
    webhook_id = _text(payload.get("webhookId"))
    # Without a webhookId an exact re-delivery is still caught: the same bytes give the same key.
    key = f"highlevel:{webhook_id}" if webhook_id else f"highlevel:sha256:{hashlib.sha256(body).hexdigest()}"
    return InboxEvent("highlevel", event_type, location, kind, record_id, contact_id, key, _iso(now), body)


def sendowl_event(body: bytes, event_header: str | None, now: datetime, location: str | None = None) -> InboxEvent:
    """SendOwl sends the order (wrapped as `{"order": {...}}` like its API, or bare) and no event id. `location`:
    the location whose shop it came from (many locations: order ids are per shop, so it is part of the key)."""
    payload = _object(body)
    wrapped = payload.get("order")
    order: dict[str, Any] = wrapped if isinstance(wrapped, dict) else payload
    order_id = _text(order.get("id"))
    if order_id is None:
        raise Refusal(200, "no order id")
    event_type = _safe_type(event_header or payload.get("event"), default="order")
    state = _text(order.get("state")) or ""
    # No event id: (order id, event, order state) names one change; a repeat of it is a duplicate.
    key = f"sendowl:{location + ':' if location else ''}{order_id}:{event_type}:{state}"
    return InboxEvent("sendowl", event_type, location, "order", order_id, None, key, _iso(now), body)


def _iso(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
