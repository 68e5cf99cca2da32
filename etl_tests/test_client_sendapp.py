"""SendApp client on an injected transport: auth header, paging to a window end, 429 Retry-After, validation."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from etl_project.platforms import errors
from etl_project.platforms.http import RetryPolicy
from etl_project.platforms.sendapp import SendAppClient

KEY = "sendapp-secret-key"


def contact(i: int, updated: str, email: str | None = None) -> dict[str, object]:
    return {
        "id": i,
        "first_name": f"P{i}",
        "number": f"1415555{i:04d}",
        "email": email,
        "tags": [],
        "custom_fields": {},
        "created_at": "2026-10-01T00:00:00.000Z",
        "updated_at": updated,
    }


def client_for(handler: object, sleeps: list[float] | None = None) -> SendAppClient:
    http = httpx.Client(base_url="https://acct.example/api", transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    return SendAppClient(
        http,
        KEY,
        min_interval=0,
        retry=RetryPolicy(base_delay=0.01),
        sleep=(sleeps if sleeps is not None else []).append,
    )


def test_pages_stop_at_the_window_end_and_send_the_key() -> None:
    data = [contact(i, f"2026-10-0{1 + i // 3}T00:00:0{i % 3}.000Z") for i in range(9)]
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        assert request.headers["X-API-Key"] == KEY
        page, per = int(request.url.params["page"]), int(request.url.params["per_page"])
        rows = data[(page - 1) * per : page * per]
        return httpx.Response(
            200, json={"data": rows, "meta": {"page": page, "per_page": per, "total": 9, "has_more": page * per < 9}}
        )

    client = client_for(handler)
    pages = list(
        client.iter_contacts_updated(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 3, tzinfo=UTC), per_page=2)
    )
    ids = [m.id for p in pages for m, _ in p.valid]
    assert ids == [0, 1, 2, 3, 4, 5], "records updated at or after the window end are left for the next window"
    assert requests[0].url.params["updated_since"] == "2026-10-01T00:00:00.000Z"
    assert len(requests) == 4, "the page that crosses the window end is the last one read"


def test_429_waits_retry_after_then_succeeds() -> None:
    answers = [
        httpx.Response(429, json={"status": "error", "message": "Too many requests"}, headers={"Retry-After": "7"}),
        httpx.Response(200, json={"data": contact(1, "2026-10-01T00:00:00Z")}),
    ]
    sleeps: list[float] = []
    client = client_for(lambda r: answers.pop(0), sleeps)
    assert client.get_contact(1)["id"] == 1
    assert sleeps == [7.0]


def test_errors_are_typed_and_keep_the_key_out() -> None:
    client = client_for(lambda r: httpx.Response(409, json={"status": "error", "message": "number exists"}))
    with pytest.raises(errors.ConflictError) as caught:
        client.create_contact({"number": "14155550000"})
    assert "number exists" in str(caught.value) and KEY not in str(caught.value)


def test_invalid_contacts_are_rejected_with_reasons() -> None:
    rows = [
        contact(1, "2026-10-01T00:00:00Z"),
        contact(2, "2026-10-01T00:00:00Z", email="bob@@x"),
        {**contact(3, "2026-10-01T00:00:00Z"), "number": "+1 (415) 555"},
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": rows, "meta": {"has_more": False}})

    (page,) = client_for(handler).iter_contacts_updated(
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert [m.id for m, _ in page.valid] == [1]
    reasons = {r.record_id: r.reason for r in page.rejected}
    assert "email" in reasons["2"] and "number" in reasons["3"]
