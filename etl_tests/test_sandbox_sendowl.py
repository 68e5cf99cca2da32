"""Contract tests of the SendOwl stand-in over real loopback HTTP: auth, Accept, paging, filters, writes, blocking."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from etl_project.platforms import errors
from etl_project.platforms.sendowl import SendOwlClient
from etl_project.sandbox.admin import register_admin
from etl_project.sandbox.limits import Faults, SlidingWindowLimiter, Stats
from etl_project.sandbox.people import make_people
from etl_project.sandbox.sendowl.app import ACCEPT_MESSAGE, create_app, rate_limit_settings
from etl_project.sandbox.sendowl.store import SendOwlStore, parse_time

KEY, SECRET = "sandbox-sendowl-key", "sandbox-sendowl-secret"
ORDERS = "/api/v1_3/orders"
SEED = 7


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Serve `app` on a free loopback port in a daemon thread, as the project's Sandbox does."""
    # IPPROTO_TCP + TCP_NODELAY: without them every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class Shop:
    url: str
    store: SendOwlStore
    stats: Stats


def seed_store(store: SendOwlStore, seed: int = SEED) -> None:
    # Buyers: a slice of the shared pool (overlapping other platforms' people), as the Sandbox passes it.
    store.seed(make_people(seed, 120)[30:110], seed)


@pytest.fixture
def shop() -> Iterator[Shop]:
    store = SendOwlStore()
    seed_store(store)
    limiter = SlidingWindowLimiter(rate_limit_settings(enabled=False))
    faults, stats = Faults(), Stats()
    app = create_app(store, limiter, faults, stats)
    register_admin(app, lambda n, s: seed_store(store, s or SEED), limiter, faults, stats, lambda: {})
    with serve(app) as url:
        yield Shop(url, store, stats)


@pytest.fixture
def api(shop: Shop) -> Iterator[httpx.Client]:
    headers = {"Accept": "application/json"}
    with httpx.Client(base_url=shop.url, auth=httpx.BasicAuth(KEY, SECRET), headers=headers, timeout=10) as client:
        yield client


def all_orders(api: httpx.Client, **params: str) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = []
    page = 1
    while True:
        batch = api.get(ORDERS, params={**params, "page": page, "per_page": 50}).json()
        orders += [w["order"] for w in batch]
        if len(batch) < 50:
            return orders
        page += 1


def test_basic_auth_is_required(shop: Shop) -> None:
    with httpx.Client(base_url=shop.url, headers={"Accept": "application/json"}, timeout=10) as raw:
        anonymous = raw.get(ORDERS)
        assert anonymous.status_code == 401 and anonymous.json()["error"]
        assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
        assert raw.get(ORDERS, auth=httpx.BasicAuth(KEY, "wrong")).status_code == 401
        assert raw.get(ORDERS, headers={"Authorization": "Bearer x"}).status_code == 401
        assert raw.get(ORDERS, auth=httpx.BasicAuth(KEY, SECRET)).status_code == 200


def test_accept_header_must_name_json(shop: Shop) -> None:
    with httpx.Client(base_url=shop.url, auth=httpx.BasicAuth(KEY, SECRET), timeout=10) as raw:
        default = raw.get(ORDERS)  # httpx sends `Accept: */*`
        assert default.status_code == 415 and default.text == ACCEPT_MESSAGE
        assert raw.get(ORDERS, headers={"Accept": "text/html"}).status_code == 415
        assert raw.get(ORDERS, headers={"Accept": "application/json; charset=utf-8"}).status_code == 200
        assert raw.get(ORDERS, headers={"Accept": "text/html, application/json"}).status_code == 200


def test_paging_covers_every_order_once_oldest_first(shop: Shop, api: httpx.Client) -> None:
    orders = all_orders(api)
    ids = [o["id"] for o in orders]
    assert len(ids) == len(set(ids)) == len(shop.store.orders) > 100
    assert all(isinstance(i, int) for i in ids)
    created = [str(o["created_at"]) for o in orders]
    assert created == sorted(created)
    first = api.get(ORDERS)
    assert isinstance(first.json(), list) and len(first.json()) == 10, "per_page defaults to 10"
    assert "Link" not in first.headers and set(first.json()[0]) == {"order"}
    assert len(api.get(ORDERS, params={"per_page": 500}).json()) == 50, "per_page is capped at 50"
    assert api.get(ORDERS, params={"page": 99, "per_page": 50}).json() == []
    newest = api.get(ORDERS, params={"sort": "newest_first", "per_page": 3}).json()
    assert [w["order"]["id"] for w in newest] == ids[::-1][:3]


def test_from_and_to_filter_inclusively_on_creation_date(shop: Shop, api: httpx.Client) -> None:
    everything = all_orders(api)
    day = str(everything[len(everything) // 2]["created_at"])[:10]
    same_day = all_orders(api, **{"from": day, "to": day})
    assert same_day and {str(o["created_at"])[:10] for o in same_day} == {day}
    expected = [o["id"] for o in everything if str(o["created_at"])[:10] == day]
    assert [o["id"] for o in same_day] == expected
    since = all_orders(api, **{"from": day})
    assert len(since) == sum(1 for o in everything if str(o["created_at"])[:10] >= day)
    bad = api.get(ORDERS, params={"from": "01/02/2026"})
    assert bad.status_code == 422 and bad.json()[0][0] == "from"


def test_state_filter(api: httpx.Client, shop: Shop) -> None:
    refunded_states = all_orders(api, state="chargeback")
    assert refunded_states and {o["state"] for o in refunded_states} == {"chargeback"}
    assert len(refunded_states) == sum(1 for o in shop.store.orders.values() if o["state"] == "chargeback")


def test_updated_after_is_honoured_only_where_supported(shop: Shop, api: httpx.Client) -> None:
    everything = all_orders(api)
    cutoff = sorted(str(o["updated_at"]) for o in everything)[len(everything) // 2]
    newer = all_orders(api, updated_after=cutoff)
    assert newer and all(str(o["updated_at"]) > cutoff for o in newer), "strictly greater"
    assert len(newer) == sum(1 for o in everything if str(o["updated_at"]) > cutoff)
    shop.store.settings.updated_after_supported = False
    assert len(all_orders(api, updated_after=cutoff)) == len(everything), "unsupported: ignored like any param"


def test_search_by_email_ignores_case_and_padding(shop: Shop, api: httpx.Client) -> None:
    messy = next(
        o for o in shop.store.orders.values() if o["buyer_email"] and o["buyer_email"] != o["buyer_email"].lower()
    )
    canonical = messy["buyer_email"].strip().lower()
    expected = {o["id"] for o in shop.store.orders.values() if (o["buyer_email"] or "").strip().lower() == canonical}
    for query in (canonical, f"  {canonical.upper()} "):
        found = api.get(f"{ORDERS}/search", params={"email": query, "per_page": 50}).json()
        assert {w["order"]["id"] for w in found} == expected
    assert api.get(f"{ORDERS}/search", params={"email": "nobody@example.com"}).json() == []
    surname = str(messy["buyer_name"]).split()[-1][:4]
    fuzzy = api.get(f"{ORDERS}/search", params={"term": surname, "per_page": 50}).json()
    assert messy["id"] in {w["order"]["id"] for w in fuzzy}
    assert api.get(f"{ORDERS}/search").status_code == 422


def test_get_and_put_an_order(shop: Shop, api: httpx.Client) -> None:
    order_id = next(iter(shop.store.orders))
    before = api.get(f"{ORDERS}/{order_id}").json()["order"]
    assert before["id"] == order_id
    assert api.get(f"{ORDERS}/1").status_code == 404
    assert api.get(f"{ORDERS}/abc").status_code == 404
    changes = {"tag": "ghl:abc123 vip", "buyer_name": "Ada Lovelace", "shipping_city": "London"}
    put = api.put(f"{ORDERS}/{order_id}", json={"order": changes})
    assert put.status_code == 200
    after = put.json()["order"]
    assert {k: after[k] for k in changes} == changes
    assert parse_time(after["updated_at"]) > parse_time(before["updated_at"])
    assert parse_time(after["updated_at"]) >= datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    assert api.get(f"{ORDERS}/{order_id}").json()["order"]["tag"] == "ghl:abc123 vip"
    changed = all_orders(api, updated_after=before["updated_at"])
    assert order_id in {o["id"] for o in changed}
    assert api.put(f"{ORDERS}/1", json={"order": {"tag": "x"}}).status_code == 404


def test_put_refusals_are_422_field_message_pairs(shop: Shop, api: httpx.Client) -> None:
    order_id = next(iter(shop.store.orders))
    before = dict(shop.store.orders[order_id])
    bad_email = api.put(f"{ORDERS}/{order_id}", json={"order": {"buyer_email": "ada@", "tag": "ok"}})
    assert bad_email.status_code == 422 and bad_email.json() == [["buyer_email", "is invalid"]]
    not_writable = api.put(f"{ORDERS}/{order_id}", json={"order": {"state": "complete", "settled_gross": "1.00"}})
    assert not_writable.status_code == 422
    assert sorted(f for f, _ in not_writable.json()) == ["settled_gross", "state"]
    assert api.put(f"{ORDERS}/{order_id}", json={"tag": "x"}).json() == [["order", "is missing"]]
    assert api.put(f"{ORDERS}/{order_id}", json={"order": {"buyer_email": " "}}).json()[0][1] == "can't be blank"
    assert shop.store.orders[order_id] == before, "a refused write changes nothing"


def test_products(api: httpx.Client) -> None:
    products = api.get("/api/v1/products").json()
    assert len(products) == 6
    product = products[0]["product"]
    assert isinstance(product["id"], int) and product["name"]
    assert isinstance(product["price"], str) and Decimal(product["price"]) > 0
    assert {p["product"]["product_type"] for p in products} >= {"digital", "tangible"}


def test_seeded_orders_look_like_a_real_shop(shop: Shop) -> None:
    orders = list(shop.store.orders.values())
    states = {o["state"] for o in orders}
    assert {"complete", "failed", "chargeback", "subscription_active", "subscription_cancelled"} <= states
    assert any(o["refunded"] for o in orders if o["state"] == "complete")
    emails = [o["buyer_email"] for o in orders if o["buyer_email"]]
    assert any(e != e.strip() for e in emails) and any(e.isupper() for e in emails)
    assert any("@" not in e or e.endswith("@") for e in emails), "a few typos for quarantine"
    for o in orders:
        assert parse_time(o["updated_at"]) >= parse_time(o["created_at"])
        assert (datetime.now(UTC) - parse_time(o["created_at"])).days <= 90
        if o["settled_gross"] is not None:
            assert Decimal(o["settled_gross"]).as_tuple().exponent == -2
        for wrapper in o["cart"]["cart_items"]:
            assert set(wrapper) == {"cart_item"} and wrapper["cart_item"]["quantity"] >= 1
    assert any(parse_time(o["updated_at"]) - parse_time(o["created_at"]) > timedelta(days=1) for o in orders)
    by_created = sorted(orders, key=lambda o: (o["created_at"], o["id"]))
    assert [o["id"] for o in by_created] == sorted(o["id"] for o in orders), "ids follow creation order"
    again = SendOwlStore()
    seed_store(again)
    assert [(o["id"], o["buyer_email"], o["state"]) for o in again.orders.values()] == [
        (o["id"], o["buyer_email"], o["state"]) for o in orders
    ]


def test_calling_faster_than_once_per_second_blocks_the_key(shop: Shop, api: httpx.Client) -> None:
    assert [api.get(ORDERS).status_code for _ in range(3)] == [200] * 3, "limits off: never blocked"
    # The real rule (one request a second) with a block cut to 3 s. The margins are wide so a busy machine's
    # latency can neither space two requests a second apart nor carry one from inside the block to past it.
    httpx.post(f"{shop.url}/_sandbox/rate-limits", json={"enabled": True, "interval_ms": 1000})
    shop.store.settings.block_seconds = 3.0
    assert api.get(ORDERS).status_code == 200
    asked_at = time.monotonic()  # before the request: the block starts when the stand-in answers it
    blocked = api.get(ORDERS)
    assert blocked.status_code == 403 and "per second" in blocked.json()["error"]
    time.sleep(1.1)  # past the rate window
    assert api.get(ORDERS).status_code == 403, "still blocked after the rate window: the block lasts"
    refused = 2
    while (status := api.get(ORDERS).status_code) == 403:
        refused += 1
        time.sleep(0.1)
    assert status == 200 and time.monotonic() - asked_at >= 3.0, "the block ends when it says"
    assert shop.stats.by_status[403] == refused
    httpx.post(f"{shop.url}/_sandbox/reset", json={})
    assert shop.store.blocked_until == {}


def test_a_paced_client_is_never_blocked(shop: Shop) -> None:
    httpx.post(f"{shop.url}/_sandbox/rate-limits", json={"enabled": True, "interval_ms": 100})
    http = httpx.Client(base_url=shop.url, auth=httpx.BasicAuth(KEY, SECRET), timeout=10)
    with SendOwlClient(http, min_interval=0.1) as client:
        pages = list(client.iter_orders(per_page=50))
        client.list_products()
    assert sum(len(p.valid) + len(p.rejected) for p in pages) == len(shop.store.orders)
    assert shop.stats.by_status[403] == 0 and shop.stats.by_status[200] == len(pages) + 1


def test_client_end_to_end_quarantines_typos_and_maps_422(shop: Shop) -> None:
    http = httpx.Client(base_url=shop.url, auth=httpx.BasicAuth(KEY, SECRET), timeout=10)
    with SendOwlClient(http, min_interval=0) as client:
        pages = list(client.iter_orders())
        rejected = {r.record_id for p in pages for r in p.rejected}
        typos = {str(o["id"]) for o in shop.store.orders.values() if o["buyer_email"] and "@" not in o["buyer_email"]}
        typos |= {str(o["id"]) for o in shop.store.orders.values() if str(o["buyer_email"] or "x").endswith("@")}
        assert rejected == typos and rejected
        valid = [m for p in pages for m, _ in p.valid]
        target = next(m for m in valid if m.buyer_email)
        assert target.buyer_email is not None
        found = client.search_orders(target.buyer_email.strip().upper())
        assert target.id in {m.id for m, _ in found.valid}
        with pytest.raises(errors.InvalidRequestError, match="buyer_email is invalid"):
            client.update_order(target.id, {"buyer_email": "nope"})
        assert client.update_order(target.id, {"tag": "synced"})["tag"] == "synced"
        assert client.get_order(target.id)["tag"] == "synced"


def test_sandbox_purchase_and_refund_move_the_cursors(shop: Shop, api: httpx.Client) -> None:
    product_id = api.get("/api/v1/products").json()[0]["product"]["id"]
    bought = httpx.post(
        f"{shop.url}/_sandbox/sendowl/purchase",
        json={"product_id": product_id, "buyer_email": "new.buyer@example.com", "buyer_name": "New Buyer"},
    ).json()["order"]
    assert bought["state"] == "complete" and bought["id"] > max(i for i in shop.store.orders if i != bought["id"])
    assert all_orders(api)[-1]["id"] == bought["id"], "a new order lands on the last page"
    old = next(iter(shop.store.orders.values()))
    refunded = httpx.post(f"{shop.url}/_sandbox/sendowl/orders/{old['id']}/refund").json()["order"]
    assert refunded["refunded"] is True and refunded["updated_at"] > refunded["created_at"]


def test_injected_faults_and_stats(shop: Shop, api: httpx.Client) -> None:
    order_id = next(iter(shop.store.orders))
    httpx.post(f"{shop.url}/_sandbox/faults", json={"error_rate": 1.0})
    failed = api.get(f"{ORDERS}/{order_id}")
    assert failed.status_code == 503 and failed.json()["error"]
    assert shop.stats.by_route[f"GET {ORDERS}/{{id}}"] == 1 and shop.stats.by_status[503] == 1
