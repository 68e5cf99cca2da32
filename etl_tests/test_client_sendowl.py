"""SendOwl client on an injected transport: paging, headers, validation, 422 pairs, 403 cooldown, pacing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

import httpx
import pytest

from etl_project.platforms import errors
from etl_project.platforms.http import RetryPolicy
from etl_project.platforms.pacing import IntervalPacer
from etl_project.platforms.sendowl import SendOwlClient

KEY, SECRET = "so-key", "so-very-secret"


def order(i: int, email: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "id": i,
        "state": "complete",
        "refunded": False,
        "buyer_email": email or f"buyer{i}@example.com",
        "buyer_name": f"Buyer {i}",
        "settled_gross": "64.90",
        "settled_currency": "USD",
        "settled_tax": "10.82",
        "tag": "",
        "cart": {"cart_items": [{"cart_item": {"product_id": 501, "quantity": 1, "price_at_checkout": "54.08"}}]},
        "created_at": f"2026-10-01T00:00:{i % 60:02d}Z",
        "updated_at": f"2026-10-02T00:00:{i % 60:02d}Z",
        **fields,
    }


def make_client(
    handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float] | None = None, **kwargs: Any
) -> SendOwlClient:
    http = httpx.Client(
        base_url="https://so.test", transport=httpx.MockTransport(handler), auth=httpx.BasicAuth(KEY, SECRET)
    )
    recorded = sleeps if sleeps is not None else []
    kwargs.setdefault("retry", RetryPolicy(base_delay=0.1, max_delay=1))
    return SendOwlClient(http, min_interval=0, sleep=recorded.append, **kwargs)


def paged(data: list[dict[str, Any]], seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page, per_page = int(request.url.params["page"]), int(request.url.params["per_page"])
        rows = data[(page - 1) * per_page : page * per_page]
        return httpx.Response(200, json=[{"order": r} for r in rows])

    return handler


def test_paging_unwraps_orders_sends_filters_and_stops_on_short_page() -> None:
    seen: list[httpx.Request] = []
    client = make_client(paged([order(i) for i in range(5)], seen))
    pages = list(
        client.iter_orders(
            updated_after=datetime(2026, 10, 1, 12, 30, tzinfo=UTC),
            created_from=date(2026, 9, 1),
            created_to=date(2026, 10, 31),
            state="complete",
            per_page=2,
        )
    )
    assert [[m.id for m, _ in p.valid] for p in pages] == [[0, 1], [2, 3], [4]]
    assert [r.url.params["page"] for r in seen] == ["1", "2", "3"], "no request after the short page"
    params = seen[0].url.params
    assert params["per_page"] == "2" and params["state"] == "complete"
    assert params["from"] == "2026-09-01" and params["to"] == "2026-10-31"
    assert params["updated_after"] == "2026-10-01T12:30:00Z"
    assert seen[0].url.path == "/api/v1_3/orders"
    assert pages[0].valid[0][1] == order(0), "the raw payload is the unwrapped order, as received"


def test_an_exact_multiple_ends_on_an_empty_page_and_per_page_is_capped() -> None:
    seen: list[httpx.Request] = []
    pages = list(make_client(paged([order(i) for i in range(4)], seen)).iter_orders(per_page=2))
    assert [len(p.valid) for p in pages] == [2, 2] and len(seen) == 3
    seen.clear()
    list(make_client(paged([], seen)).iter_orders(per_page=500))
    assert seen[0].url.params["per_page"] == "50" and len(seen) == 1


def test_accept_json_and_basic_auth_are_sent() -> None:
    seen: list[httpx.Request] = []
    list(make_client(paged([], seen)).iter_orders())
    request = seen[0]
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()


def test_invalid_records_are_rejected_with_reason_not_dropped() -> None:
    body = [
        {"order": order(1, email="  BUYER.ONE@Example.COM ")},
        {"order": order(2, email="jane.doe@")},
        {"order": order(3, settled_gross="12,00")},
        {"order": {"state": "complete"}},
        "not an order",
    ]
    (page,) = make_client(lambda r: httpx.Response(200, json=body)).iter_orders()
    assert [m.id for m, _ in page.valid] == [1]
    reasons = {r.record_id: r.reason for r in page.rejected}
    assert "buyer_email" in reasons["2"] and "valid email" in reasons["2"]
    assert "settled_gross" in reasons["3"] and "amount" in reasons["3"]
    anonymous = [r.reason for r in page.rejected if r.record_id is None]
    assert len(anonymous) == 2 and "id: Field required" in anonymous[0] and "not an object" in anonymous[1]


def test_models_keep_money_as_strings_with_decimal_helpers() -> None:
    products = [{"product": {"id": 501, "name": "Presets", "price": "19.00", "product_type": "digital"}}]
    answers = {"/api/v1/products": products, "/api/v1_3/orders": [{"order": order(7, refunded=True, tag=None)}]}
    client = make_client(lambda r: httpx.Response(200, json=answers[r.url.path]))
    (product, raw), *_ = client.list_products().valid
    assert product.price == "19.00" and product.amount == Decimal("19.00") and raw["product_type"] == "digital"
    (parsed,) = client.iter_orders()
    model = parsed.valid[0][0]
    assert model.settled_gross == "64.90" and model.gross == Decimal("64.90") and model.tax == Decimal("10.82")
    assert model.refunded is True and model.tag is None
    assert model.product_ids == [501] and model.items[0].price == Decimal("54.08")
    assert model.created_at == datetime(2026, 10, 1, 0, 0, 7, tzinfo=UTC)


def test_search_get_and_update_use_the_documented_shapes() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/search"):
            return httpx.Response(200, json=[{"order": order(3)}])
        if request.method == "PUT":
            return httpx.Response(200, json={"order": {**order(3), **json.loads(request.content)["order"]}})
        return httpx.Response(200, json={"order": order(3)})

    client = make_client(handler)
    found = client.search_orders("Buyer3@Example.com")
    assert [m.id for m, _ in found.valid] == [3]
    assert seen[0].url.path == "/api/v1_3/orders/search" and seen[0].url.params["email"] == "Buyer3@Example.com"
    assert client.get_order(3)["id"] == 3 and seen[1].url.path == "/api/v1_3/orders/3"
    updated = client.update_order(3, {"tag": "ghl:c1"})
    assert updated["tag"] == "ghl:c1"
    assert json.loads(seen[2].content) == {"order": {"tag": "ghl:c1"}}
    assert seen[2].headers["Content-Type"] == "application/json"


def test_422_field_message_pairs_become_a_readable_error() -> None:
    pairs = [["buyer_email", "is invalid"], ["state", "is not a writable field"]]
    client = make_client(lambda r: httpx.Response(422, json=pairs))
    with pytest.raises(errors.InvalidRequestError) as caught:
        client.update_order(3, {"buyer_email": "nope", "state": "complete"})
    text = str(caught.value)
    assert "buyer_email is invalid; state is not a writable field" in text and "HTTP 422" in text
    assert caught.value.details == pairs
    assert SECRET not in text and KEY not in text


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (401, {"error": "HTTP Basic: Access denied."}, errors.AuthenticationError, "Access denied"),
        (404, {"error": "Not found"}, errors.NotFoundError, "Not found"),
        (415, "Please specify a supported Accept header (application/json)", errors.InvalidRequestError, "Accept"),
    ],
)
def test_other_errors_are_typed(status: int, body: object, error: type, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    with pytest.raises(error, match=message):
        make_client(handler).get_order(1)


def test_a_403_block_is_waited_out_and_retried() -> None:
    answers = [
        httpx.Response(403, json={"error": "blocked"}),
        httpx.Response(403, json={"error": "blocked"}),
        httpx.Response(200, json={"order": order(1)}),
    ]
    sleeps: list[float] = []
    client = make_client(lambda r: answers.pop(0), sleeps, block_cooldown=5.0)
    assert client.get_order(1)["id"] == 1
    assert sleeps == [5.0, 5.0] and client.retried == 2 and client.requests_sent == 3


def test_a_403_block_gives_up_at_the_retry_cap() -> None:
    sleeps: list[float] = []
    retry = RetryPolicy(max_attempts=10, max_total_wait=12.0)
    client = make_client(
        lambda r: httpx.Response(403, json={"error": "blocked"}), sleeps, retry=retry, block_cooldown=5
    )
    with pytest.raises(errors.RateLimitError, match="more than once per second") as caught:
        client.get_order(1)
    assert caught.value.status_code == 403
    assert sleeps == [5, 5], "a third wait would pass the 12 s cap"


def test_a_non_array_index_is_an_error_not_an_empty_shop() -> None:
    client = make_client(lambda r: httpx.Response(200, json={"orders": []}))
    with pytest.raises(errors.PlatformError, match="expected a JSON array"):
        list(client.iter_orders())


def test_an_endpoint_that_ignores_page_is_not_read_forever() -> None:
    full = [{"order": order(i)} for i in range(50)]
    with pytest.raises(errors.PlatformError, match="page 2 repeats page 1"):
        list(make_client(lambda r: httpx.Response(200, json=full)).iter_orders())


def test_default_pacing_is_one_request_per_second() -> None:
    client = SendOwlClient(httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200))))
    assert isinstance(client.pacer, IntervalPacer) and client.pacer.min_interval == 1.0


def test_interval_pacer_never_lets_two_requests_closer_than_min_interval() -> None:
    now = [0.0]
    arrivals: list[float] = []
    data = [order(i) for i in range(7)]

    def handler(request: httpx.Request) -> httpx.Response:
        arrivals.append(now[0])
        now[0] += 0.3  # the response takes a while
        page, per_page = int(request.url.params["page"]), int(request.url.params["per_page"])
        return httpx.Response(200, json=[{"order": r} for r in data[(page - 1) * per_page : page * per_page]])

    pacer = IntervalPacer(1.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    client = make_client(handler, pacer=pacer)
    pages = list(client.iter_orders(per_page=1))
    assert len(pages) == 7 and len(arrivals) == 8
    gaps = [b - a for a, b in pairwise(arrivals)]
    assert all(gap >= 1.0 for gap in gaps), gaps
    assert arrivals[-1] <= 7 * 1.3 + 1e-9, "and no slower than the rule requires"
