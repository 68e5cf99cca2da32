"""HighLevel client on an injected transport: paging, retries, pacing, error mapping, OAuth rotation."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from etl_project.platforms import errors
from etl_project.platforms.highlevel import BearerTokenAuth, HighLevelClient, OAuthRefreshAuth, OAuthTokens, TokenStore
from etl_project.platforms.http import RetryPolicy
from etl_project.platforms.pacing import WindowPacer

SECRET = "pit-very-secret-token"
RATE = {
    "X-RateLimit-Limit-Daily": "200000",
    "X-RateLimit-Daily-Remaining": "150000",
    "X-RateLimit-Interval-Milliseconds": "10000",
    "X-RateLimit-Max": "100",
    "X-RateLimit-Remaining": "90",
}


def contact(i: int, email: str | None = None) -> dict[str, object]:
    return {
        "id": f"c{i:04d}",
        "email": email or f"person{i}@example.com",
        "dateAdded": "2026-10-01T00:00:00.000Z",
        "dateUpdated": f"2026-10-02T00:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
        "searchAfter": [1_790_000_000_000 + i, f"c{i:04d}"],
    }


def make_client(
    handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float] | None = None, **kwargs: object
) -> HighLevelClient:
    http = httpx.Client(
        base_url="https://hl.test", transport=httpx.MockTransport(handler), auth=BearerTokenAuth(SECRET)
    )
    recorded = sleeps if sleeps is not None else []
    return HighLevelClient(
        http, "loc-1", retry=RetryPolicy(base_delay=0.1, max_delay=1), sleep=recorded.append, **kwargs
    )  # type: ignore[arg-type]


def test_search_after_paging_sends_last_marker_and_stops_on_short_page() -> None:
    bodies: list[dict[str, object]] = []
    data = [contact(i) for i in range(5)]

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {SECRET}"
        assert request.headers["Version"] == "2021-07-28"
        body = json.loads(request.content)
        bodies.append(body)
        start = 0 if "searchAfter" not in body else int(body["searchAfter"][1][1:]) + 1
        return httpx.Response(200, json={"contacts": data[start : start + 2], "total": 5}, headers=RATE)

    from datetime import UTC, datetime

    client = make_client(handler, page_limit=2)
    pages = list(client.iter_contacts_updated(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 3, tzinfo=UTC)))
    assert [len(p.valid) for p in pages] == [2, 2, 1]
    assert [b.get("searchAfter") for b in bodies] == [None, data[1]["searchAfter"], data[3]["searchAfter"]]
    assert all("page" not in b for b in bodies)
    flt = bodies[0]["filters"][0]  # type: ignore[index]
    assert flt["operator"] == "range" and flt["value"] == {
        "gte": "2026-10-01T00:00:00.000Z",
        "lt": "2026-10-03T00:00:00.000Z",
    }
    assert "searchAfter" not in pages[0].valid[0][1], "paging markers are not part of the landed record"


def test_epoch_ms_search_dates_are_configurable() -> None:
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content)["filters"][0]["value"])
        return httpx.Response(200, json={"contacts": [], "total": 0}, headers=RATE)

    from datetime import UTC, datetime

    client = make_client(handler, search_date_format="epoch_ms")
    list(client.iter_contacts_updated(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC)))
    assert seen == [{"gte": 1790812800000, "lt": 1790899200000}]


def test_invalid_records_are_rejected_with_reason_not_dropped() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"contacts": [contact(1), contact(2, email="not-an-email@"), {"email": "x@y.io"}], "total": 3}
        return httpx.Response(200, json=body, headers=RATE)

    from datetime import UTC, datetime

    (page,) = make_client(handler).iter_contacts_updated(datetime(2026, 1, 1, tzinfo=UTC), datetime.now(UTC))
    assert [m.id for m, _ in page.valid] == ["c0001"]
    reasons = {r.record_id: r.reason for r in page.rejected}
    assert "email" in reasons["c0002"] and "valid email" in reasons["c0002"]
    assert "id" in reasons[None]


def test_429_and_5xx_are_retried_with_backoff_and_retry_after() -> None:
    answers = [
        httpx.Response(429, json={"statusCode": 429, "message": "Too many"}, headers={"Retry-After": "3"}),
        httpx.Response(503, json={"statusCode": 503, "message": "busy"}),
        httpx.Response(200, json={"contact": contact(1)}, headers=RATE),
    ]
    sleeps: list[float] = []
    client = make_client(lambda r: answers.pop(0), sleeps)
    assert client.get_contact("c0001")["id"] == "c0001"
    assert sleeps[0] == 3.0 and 0.05 <= sleeps[1] <= 0.2
    assert client.requests_sent == 3 and client.retried == 2


def test_create_is_not_retried_after_a_server_error_but_is_after_429() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(502, json={"statusCode": 502, "message": "bad gateway"})

    client = make_client(handler)
    with pytest.raises(errors.ServerError):
        client.create_contact({"email": "a@b.co"})
    assert calls == ["POST"], "a create that may have landed is left to the outbox, not blindly repeated"

    answers = [httpx.Response(429, json={}), httpx.Response(201, json={"contact": contact(9)})]
    assert make_client(lambda r: answers.pop(0)).create_contact({"email": "a@b.co"})["id"] == "c0009"


def test_transport_errors_retry_reads_and_give_up_with_typed_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = make_client(handler)
    with pytest.raises(errors.PlatformTransportError) as caught:
        client.get_contact("c1")
    assert client.retried == client.retry.max_attempts - 1
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"statusCode": 401, "message": "Invalid token: access token is invalid"}, errors.AuthenticationError),
        (403, {"statusCode": 403, "message": "no access"}, errors.PermissionDeniedError),
        (400, {"statusCode": 400, "message": "Contact not found"}, errors.NotFoundError),
        (404, {"statusCode": 404, "message": "Task not found"}, errors.NotFoundError),
        (
            422,
            {"statusCode": 422, "message": ["email must be an email", "tags must be an array"]},
            errors.InvalidRequestError,
        ),
    ],
)
def test_error_mapping_never_leaks_the_token(status: int, body: dict[str, object], error: type) -> None:
    client = make_client(lambda r: httpx.Response(status, json={**body, "traceId": "t-1"}))
    with pytest.raises(error) as caught:
        client.get_contact("c1")
    text = str(caught.value)
    assert SECRET not in text and "traceId t-1" in text and f"HTTP {status}" in text
    if status == 422:
        assert "email must be an email; tags must be an array" in text


def test_daily_budget_guard_stops_the_run() -> None:
    low = {**RATE, "X-RateLimit-Daily-Remaining": "40"}
    client = make_client(lambda r: httpx.Response(200, json={"contact": contact(1)}, headers=low), daily_reserve=50)
    with pytest.raises(errors.DailyBudgetExhaustedError, match="40 requests left"):
        client.get_contact("c1")
    ok = make_client(lambda r: httpx.Response(200, json={"contact": contact(1)}, headers=RATE), daily_reserve=50)
    ok.get_contact("c1")
    with pytest.raises(errors.DailyBudgetExhaustedError):
        ok.ensure_daily_budget(149_990)


def test_window_pacer_never_exceeds_the_burst_limit() -> None:
    now = [0.0]
    pacer = WindowPacer(
        max_requests=10, interval=10.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    sent: list[float] = []
    for _ in range(35):
        pacer.before_request()
        sent.append(now[0])
        now[0] += 0.05  # latency: the response arrives a little later
        pacer.after_response(None)
    for i in range(len(sent) - 10):
        assert sent[i + 10] - sent[i] >= 10.0, "no 11 requests inside any 10 s window"
    assert sent[-1] < 40, "and it keeps close to the allowed rate"


def test_oauth_refresh_rotates_and_persists_before_use(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "cfg" / "tokens.json")
    store.save(OAuthTokens("old-access", "refresh-1", expires_at=0))  # already expired
    grants: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            form = dict(x.split("=") for x in request.content.decode().split("&"))
            grants.append(form["refresh_token"])
            n = len(grants) + 1
            return httpx.Response(
                200, json={"access_token": f"access-{n}", "refresh_token": f"refresh-{n}", "expires_in": 86399}
            )
        if request.headers["Authorization"] == "Bearer access-2" and len(grants) == 1:
            return httpx.Response(401, json={"statusCode": 401, "message": "expired"})
        return httpx.Response(200, json={"contact": contact(1)}, headers=RATE)

    auth = OAuthRefreshAuth("id", "secret", store)
    http = httpx.Client(base_url="https://hl.test", transport=httpx.MockTransport(handler), auth=auth)
    client = HighLevelClient(http, "loc-1", sleep=lambda s: None)
    client.get_contact("c1")
    assert grants == ["refresh-1", "refresh-2"], "expired → refresh; 401 → refresh again with the rotated token"
    saved = store.load()
    assert saved is not None and saved.refresh_token == "refresh-3" and saved.access_token == "access-3"
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert "refresh-3" not in repr(saved) and "secret" not in repr(auth)
