"""Post an alert to a Slack-compatible incoming webhook (`{"text": ...}`), and book it in the warehouse.

The webhook URL is a secret (it carries the token): it is never logged or stored; delivery errors name only the
HTTP status or the exception class.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import httpx

from etl_project.platforms.http import tls_context
from etl_project.warehouse.sql import load_sql
from etl_project.warehouse.store import Warehouse


@dataclass(frozen=True)
class Alert:
    kind: str
    subject: str
    text: str
    severity: str = "alert"
    run_id: str | None = None

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.kind} {self.subject} {self.run_id} {self.text}".encode()).hexdigest()[:24]


def post(url: str | None, alert: Alert, timeout: float = 10.0) -> str | None:
    """Deliver one alert; returns None when delivered, else why not (never the URL)."""
    if not url:
        return "no alert webhook configured (ETL_ALERT_WEBHOOK_URL)"
    try:
        response = httpx.post(url, json={"text": alert.text}, timeout=timeout, verify=tls_context())
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__} posting the alert"
    return None if response.is_success else f"the alert webhook answered {response.status_code}"


def record(warehouse: Warehouse, alert: Alert, delivery_error: str | None) -> None:
    params = {
        "alert_key": alert.key,
        "kind": alert.kind,
        "subject": alert.subject,
        "run_id": alert.run_id,
        "severity": alert.severity,
        "text": alert.text,
        "delivered": delivery_error is None,
        "delivery_error": delivery_error,
        "now": datetime.now(UTC),
    }
    with warehouse.connect() as con:
        con.execute(load_sql("insert_alert"), params)


def raise_alert(warehouse: Warehouse, url: str | None, alert: Alert) -> str | None:
    """Post it if it is for a person (severity `alert`), and record it either way."""
    error = post(url, alert) if alert.severity == "alert" else None
    try:
        record(warehouse, alert, error)
    except duckdb.Error as exc:
        # Posted already: failing here would re-run the sensor tick and page the person a second time.
        logging.getLogger(__name__).warning("alert posted but not recorded: %s", type(exc).__name__)
    return error
