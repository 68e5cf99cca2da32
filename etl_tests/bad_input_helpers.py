"""Shared by the bad-input tests: a temp DuckDB warehouse, clients on a MockTransport, real-looking records."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from etl_project.platforms.highlevel import BearerTokenAuth, HighLevelClient
from etl_project.platforms.http import RetryPolicy
from etl_project.platforms.sendapp import SendAppClient
from etl_project.platforms.sendowl import SendOwlClient
from etl_project.warehouse.connections import attached
from etl_project.warehouse.store import Warehouse, Window

Handler = Callable[[httpx.Request], httpx.Response]
CORPUS: dict[str, list[dict[str, Any]]] = json.loads((Path(__file__).parent / "malformed_records.json").read_text())
START = datetime(2026, 3, 1, tzinfo=UTC)


def make_warehouse(path: Path) -> Warehouse:
    """A warehouse on a temporary file, reached as the product reaches it (`warehouse.connections.attached`)."""
    wh = Warehouse(lambda: attached(str(path)))
    wh.ensure_schema()
    return wh


def live_window(run_id: str = "run-1") -> Window:
    """A live (cursor-moving) window from March 2026 to an hour from now."""
    end = datetime.now(UTC) + timedelta(hours=1)
    return Window(START.date().isoformat(), START, end, START, end, run_id, False)


def _http(base: str, handler: Handler, **kwargs: Any) -> httpx.Client:
    return httpx.Client(base_url=base, transport=httpx.MockTransport(handler), **kwargs)


def highlevel_client(handler: Handler, page_limit: int = 500) -> HighLevelClient:
    http = _http("https://hl.test", handler, auth=BearerTokenAuth("pit-token"))
    return HighLevelClient(
        http, "loc-1", retry=RetryPolicy(base_delay=0.01), sleep=lambda _: None, page_limit=page_limit
    )


def sendapp_client(handler: Handler) -> SendAppClient:
    return SendAppClient(
        _http("https://sa.test/api", handler), "key", min_interval=0, retry=RetryPolicy(base_delay=0.01)
    )


def sendowl_client(handler: Handler) -> SendOwlClient:
    http = _http("https://so.test", handler, auth=httpx.BasicAuth("k", "s"))
    return SendOwlClient(http, min_interval=0, retry=RetryPolicy(base_delay=0.01), sleep=lambda _: None)


def highlevel_contact(i: int, updated: str = "2026-03-02T08:00:00.000Z") -> dict[str, Any]:
    return {
        "id": f"hl{i:04d}",
        "locationId": "loc-1",
        "firstName": f"Ann{i}",
        "email": f"ann{i}@example.com",
        "phone": f"+1 415 555 01{i % 100:02d}",
        "tags": ["customer"],
        "dateAdded": "2026-03-01T00:00:00.000Z",
        "dateUpdated": updated,
    }


def sendapp_contact(i: int, updated: str = "2026-03-02T08:00:00.000Z") -> dict[str, Any]:
    return {
        "id": 100 + i,
        "first_name": f"Bo{i}",
        "number": f"1415555{i:04d}",
        "email": f"bo{i}@example.com",
        "tags": [],
        "custom_fields": {},
        "created_at": "2026-03-01T00:00:00.000Z",
        "updated_at": updated,
    }


def sendowl_order(i: int, updated: str = "2026-03-02T08:00:00Z") -> dict[str, Any]:
    return {
        "id": 5000 + i,
        "state": "complete",
        "refunded": False,
        "buyer_email": f"cy{i}@example.com",
        "buyer_name": f"Cy {i}",
        "settled_gross": "64.90",
        "settled_currency": "USD",
        "cart": {"cart_items": [{"cart_item": {"product_id": 501, "quantity": 1, "price_at_checkout": "64.90"}}]},
        "created_at": "2026-03-01T00:00:00Z",
        "updated_at": updated,
    }


def highlevel_search(records: list[dict[str, Any]]) -> Handler:
    """POST /contacts/search answering one page with every record (each carrying its `searchAfter`)."""

    def handler(request: httpx.Request) -> httpx.Response:
        marked = [{**r, "searchAfter": [n, str(r.get("id"))]} for n, r in enumerate(records)]
        return httpx.Response(200, json={"contacts": marked, "total": len(marked)})

    return handler


def sendapp_pages(records: list[dict[str, Any]]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": records, "meta": {"page": 1, "has_more": False}})

    return handler


def sendowl_pages(records: list[dict[str, Any]]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json=[{"order": r} for r in records] if page == 1 else [])

    return handler
