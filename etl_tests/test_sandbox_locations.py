"""Several locations behind one sandbox, over real HTTP: each location's HighLevel data, SendOwl account and SendApp
account are its own (credentials pick them), with its own rate budget, counters and webhooks."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from etl_project.devtools.wiring import (
    running_locations,
    sandbox_location_env,
    sandbox_location_resources,
    sandbox_locations_resources,
    sandbox_resources,
    write_locations_file,
)
from etl_project.sandbox.__main__ import parse_args
from etl_project.sandbox.locations import LocationAccount, default_accounts
from etl_project.sandbox.server import Sandbox, SandboxConfig
from etl_tests.conftest import LOCATION, SENDAPP_CHANNEL, SENDAPP_KEY, SENDOWL_KEY, SENDOWL_SECRET, TOKEN

CONTACTS = 40
SO_HEADERS = {"Accept": "application/json"}
ORDERS = "/api/v1_3/orders"


@pytest.fixture
def multi() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(contacts=CONTACTS, seed=7, rate_limits="off", locations=3)) as sb:
        yield sb


def hl(sandbox: Sandbox, account: LocationAccount) -> httpx.Client:
    headers = {"Authorization": f"Bearer {account.highlevel_token}", "Version": "2021-07-28"}
    return httpx.Client(base_url=sandbox.base_url("highlevel"), headers=headers, timeout=10)


def everyone(api: httpx.Client, location_id: str) -> list[dict[str, Any]]:
    body = api.post("/contacts/search", json={"locationId": location_id, "pageLimit": 500})
    body.raise_for_status()
    return list(body.json()["contacts"])


def identities(contacts: list[dict[str, Any]]) -> set[str]:
    """Who the contacts are, however each location typed them: trimmed lower-case emails and ten-digit phones."""
    found = set()
    for c in contacts:
        if c.get("email"):
            found.add(str(c["email"]).strip().lower())
        if c.get("phone"):
            found.add(re.sub(r"\D", "", c["phone"])[-10:])
    return found


def test_location_zero_keeps_todays_credentials_and_data(multi: Sandbox) -> None:
    first, second, third = multi.location_accounts()
    assert (first.location_id, first.highlevel_token) == (LOCATION, TOKEN)
    assert (first.sendowl_key, first.sendowl_secret) == (SENDOWL_KEY, SENDOWL_SECRET)
    assert (first.sendapp_api_key, first.sendapp_channel_token) == (SENDAPP_KEY, SENDAPP_CHANNEL)
    assert (second.location_id, second.highlevel_token) == ("loc-sandbox-0002", "pit-sandbox-token-0002")
    assert (third.sendowl_key, third.sendapp_api_key) == ("sandbox-sendowl-key-0003", "sandbox-sendapp-key-0003")
    assert multi.location_accounts() == default_accounts(3)
    alone = Sandbox(SandboxConfig(contacts=CONTACTS, seed=7, rate_limits="off"))  # built, never served
    for name, records, field in (
        ("highlevel", "contacts", "email"),
        ("sendowl", "orders", "buyer_email"),
        ("sendapp", "contacts", "number"),
    ):
        seen = [{k: v[field] for k, v in getattr(sb.platforms[name].store, records).items()} for sb in (multi, alone)]
        assert seen[0] == seen[1] and len(seen[0]) > CONTACTS // 3


def test_highlevel_locations_are_isolated(multi: Sandbox) -> None:
    a, b, c = multi.location_accounts()
    with hl(multi, a) as api_a, hl(multi, b) as api_b:
        created = api_b.post("/contacts/", json={"locationId": b.location_id, "email": "only.in.b@example.com"})
        assert created.status_code == 201 and created.json()["contact"]["locationId"] == b.location_id
        contact_id = created.json()["contact"]["id"]
        assert contact_id not in {x["id"] for x in everyone(api_a, a.location_id)}
        assert api_a.get(f"/contacts/{contact_id}").status_code == 400  # not A's contact
        assert api_b.get(f"/contacts/{contact_id}").status_code == 200
        dup = api_a.get(
            "/contacts/search/duplicate", params={"locationId": a.location_id, "email": "only.in.b@example.com"}
        )
        assert dup.json()["contact"] is None
        assert api_b.post("/contacts/search", json={"locationId": a.location_id}).status_code == 403
        ids_a, ids_b = (
            {x["id"] for x in everyone(api, loc)} for api, loc in ((api_a, a.location_id), (api_b, b.location_id))
        )
        assert not ids_a & ids_b
    admin = f"{multi.base_url('highlevel')}/_sandbox"
    counts = {
        acc.location_id: httpx.get(f"{admin}/stats", params={"location": acc.location_id}).json()["counts"]
        for acc in (a, b, c)
    }
    assert [counts[x.location_id]["contacts"] for x in (a, b, c)] == [CONTACTS, CONTACTS + 1, CONTACTS]
    assert httpx.get(f"{admin}/stats").json()["counts"] == counts[a.location_id]  # no parameter: location 0
    every = httpx.get(f"{admin}/stats", params={"location": "all"}).json()
    assert every["total"]["counts"]["contacts"] == 3 * CONTACTS + 1
    assert every["locations"][b.location_id]["by_route"]["POST /contacts/"] == 1
    assert every["locations"][a.location_id]["by_route"].get("POST /contacts/") is None
    assert httpx.get(f"{admin}/stats", params={"location": "loc-unknown"}).status_code == 404
    reset = httpx.post(f"{admin}/reset", params={"location": b.location_id}).json()
    assert reset["counts"]["contacts"] == CONTACTS


def test_a_tenth_of_people_are_in_two_locations(multi: Sandbox) -> None:
    a, b, _ = multi.location_accounts()
    with hl(multi, a) as api_a, hl(multi, b) as api_b:
        people_a, people_b = everyone(api_a, a.location_id), everyone(api_b, b.location_id)
    shared = identities(people_a) & identities(people_b)
    names = {(p["firstName"], p["lastName"]) for p in people_a} & {(p["firstName"], p["lastName"]) for p in people_b}
    assert 2 <= len(names) <= CONTACTS // 5, names
    assert shared, "the people both locations know share an email or phone"


def test_rate_budgets_are_per_location(multi: Sandbox) -> None:
    a, b, _ = multi.location_accounts()
    admin = f"{multi.base_url('highlevel')}/_sandbox/rate-limits"
    limits = {"enabled": True, "burst_max": 3, "interval_ms": 60_000}
    answer = httpx.post(admin, params={"location": "all"}, json=limits)
    assert answer.status_code == 200 and set(answer.json()["locations"]) == {
        x.location_id for x in multi.location_accounts()
    }
    with hl(multi, a) as api_a, hl(multi, b) as api_b:
        statuses = [api_a.post("/contacts/search", json={"locationId": a.location_id}).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        other = api_b.post("/contacts/search", json={"locationId": b.location_id})
        assert other.status_code == 200 and other.headers["X-RateLimit-Remaining"] == "2"
    stats = httpx.get(f"{multi.base_url('highlevel')}/_sandbox/stats", params={"location": "all"}).json()
    assert (
        stats["locations"][a.location_id]["rate_limited"] == 1
        and stats["locations"][b.location_id]["rate_limited"] == 0
    )


def owl(url: str, account: LocationAccount, path: str, **params: Any) -> httpx.Response:
    auth = (account.sendowl_key, account.sendowl_secret)
    return httpx.get(f"{url}{path}", params=params, auth=auth, headers=SO_HEADERS, timeout=10)


def key(account: LocationAccount) -> dict[str, str]:
    return {"X-API-Key": account.sendapp_api_key}


def test_sendowl_accounts_are_isolated(multi: Sandbox) -> None:
    a, b, _ = multi.location_accounts()
    url = multi.base_url("sendowl")
    orders = {acc.location_id: {o["order"]["id"] for o in owl(url, acc, ORDERS, per_page=50).json()} for acc in (a, b)}
    assert orders[a.location_id] and orders[b.location_id] and not orders[a.location_id] & orders[b.location_id]
    crossed = httpx.get(f"{url}{ORDERS}", auth=(b.sendowl_key, a.sendowl_secret), headers=SO_HEADERS)
    assert crossed.status_code == 401
    product = next(iter(multi.tenant("sendowl", 1).store.products))
    sale = {"product_id": product, "buyer_email": "b.buyer@example.com"}
    bought = httpx.post(f"{url}/_sandbox/sendowl/purchase", params={"account": b.sendowl_key}, json=sale).json()
    assert owl(url, b, f"{ORDERS}/{bought['order']['id']}").status_code == 200
    assert owl(url, a, f"{ORDERS}/{bought['order']['id']}").status_code == 404
    # The once-a-second rule blocks one account's key, not the others'.
    httpx.post(f"{url}/_sandbox/rate-limits", params={"account": "all"}, json={"enabled": True}).raise_for_status()
    assert [owl(url, a, "/api/v1/products").status_code for _ in range(2)] == [200, 403]
    assert owl(url, b, "/api/v1/products").status_code == 200


def test_sendapp_accounts_are_isolated(multi: Sandbox) -> None:
    a, b, _ = multi.location_accounts()
    url = multi.api_url("sendapp")
    new = {"number": "15550199123", "first_name": "Bea"}
    assert httpx.post(f"{url}/contacts", json=new, headers=key(b)).status_code == 201
    assert httpx.post(f"{url}/contacts", json=new, headers=key(b)).status_code == 409
    assert httpx.post(f"{url}/contacts", json=new, headers=key(a)).status_code == 201  # A's own number space
    ids = [{c["id"] for c in httpx.get(f"{url}/contacts?per_page=100", headers=key(x)).json()["data"]} for x in (a, b)]
    assert ids[0] and ids[1] and not ids[0] & ids[1]
    assert httpx.get(f"{url}/contacts", headers={"X-API-Key": "nobody"}).status_code == 401
    sent = {"token": b.sendapp_channel_token, "number": "15550199123", "type": "template", "template": {"name": "hi"}}
    assert httpx.post(f"{url}/whatsapp-meta/send", json=sent, headers=key(b)).status_code == 200
    assert httpx.post(f"{url}/whatsapp-meta/send", json=sent, headers=key(a)).status_code == 400  # B's channel
    admin = f"{multi.base_url('sendapp')}/_sandbox"
    counts = httpx.get(f"{admin}/stats", params={"account": b.sendapp_api_key}).json()["counts"]
    assert counts["messages"] == 1 and httpx.get(f"{admin}/stats").json()["counts"]["messages"] == 0
    limited = httpx.post(
        f"{admin}/rate-limits", params={"account": a.location_id}, json={"enabled": True, "burst_max": 2}
    )
    assert limited.json()["burst_max"] == 2
    assert [httpx.get(f"{url}/contacts", headers=key(a)).status_code for _ in range(3)] == [200, 200, 429]
    assert httpx.get(f"{url}/contacts", headers=key(b)).status_code == 200


class Capture:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.url = ""


@pytest.fixture
def capture() -> Iterator[Capture]:
    cap = Capture()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            cap.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    cap.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield cap
    server.shutdown()
    server.server_close()


def test_webhooks_carry_their_location(multi: Sandbox, capture: Capture) -> None:
    a, b, _ = multi.location_accounts()
    # One webhook URL per Marketplace app: set through any location, it is every location's.
    httpx.post(f"{multi.base_url('highlevel')}/_sandbox/webhooks", json={"url": capture.url}).raise_for_status()
    with hl(multi, a) as api_a, hl(multi, b) as api_b:
        api_a.post("/contacts/", json={"locationId": a.location_id, "email": "hook.a@example.com"}).raise_for_status()
        api_b.post("/contacts/", json={"locationId": b.location_id, "email": "hook.b@example.com"}).raise_for_status()
    for sender in multi.senders():
        assert sender.wait_idle(30)
    where = {body["email"]: body["locationId"] for body in capture.bodies if body["type"] == "ContactCreate"}
    assert where == {"hook.a@example.com": a.location_id, "hook.b@example.com": b.location_id}
    per_location = httpx.get(f"{multi.base_url('highlevel')}/_sandbox/stats", params={"location": b.location_id}).json()
    assert per_location["webhooks"]["delivered"] == 1


def test_snapshot_restores_every_location_and_the_agency(multi: Sandbox) -> None:
    b = multi.location_accounts()[1]
    with hl(multi, b) as api_b:
        api_b.post("/contacts/", json={"locationId": b.location_id, "email": "kept@example.com"}).raise_for_status()
    added = httpx.post(f"{multi.base_url('highlevel')}/_sandbox/locations", json={"contacts": 3}).json()
    httpx.post(f"{multi.base_url('highlevel')}/_sandbox/locations/{b.location_id}/deactivate").raise_for_status()
    state = multi.snapshot()
    fresh = Sandbox(SandboxConfig(contacts=CONTACTS, seed=7, rate_limits="off", locations=3))
    fresh.restore(state)
    assert fresh.location_accounts() == multi.location_accounts() and len(fresh.location_accounts()) == 4
    emails = {c["email"] for c in fresh.tenant("highlevel", b.location_id).store.contacts.values()}
    assert "kept@example.com" in emails
    assert len(fresh.tenant("highlevel", added["locationId"]).store.contacts) == 3
    assert fresh.agency.directory[b.location_id].active is False
    check = fresh.agency.location_auth(added["locationId"])
    assert check(added["token"]) is None and check("pit-sandbox-token") is not None


def test_cli_takes_the_number_of_locations() -> None:
    assert parse_args(["--locations", "4"]).locations == 4
    assert parse_args([]).locations == 1


def test_wiring_points_a_sync_at_one_location(multi: Sandbox, tmp_path: Path) -> None:
    urls = {name: multi.api_url(name) for name in ("highlevel", "sendowl", "sendapp")}
    first, second, _ = multi.location_accounts()
    assert sandbox_location_env(urls, second)["HIGHLEVEL_LOCATION_ID"] == second.location_id
    for account, resources in (
        (first, sandbox_resources(urls, str(tmp_path / "a.duckdb"))),
        (second, sandbox_location_resources(urls, second, str(tmp_path / "b.duckdb"))),
    ):
        tenant = {name: multi.tenant(name, account.location_id).store for name in ("highlevel", "sendowl", "sendapp")}
        with resources["highlevel"].get_client() as client:
            found = client.search_contacts({"pageLimit": 1})["contacts"][0]
            assert found["locationId"] == account.location_id and found["id"] in tenant["highlevel"].contacts
        with resources["sendowl"].get_client() as client:
            assert client.get_order(min(tenant["sendowl"].orders))["id"] == min(tenant["sendowl"].orders)
        with resources["sendapp"].get_client() as client:
            assert client.get_contact(min(tenant["sendapp"].contacts))["id"] == min(tenant["sendapp"].contacts)


def test_wiring_writes_a_locations_file_without_credentials(
    multi: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = running_locations(multi.base_url("highlevel"))
    assert accounts == multi.location_accounts()
    path, env = write_locations_file(tmp_path / "data", accounts, prefix="T_LOC")
    text = path.read_text()
    secrets = [getattr(a, f) for a in accounts for f in ("highlevel_token", "sendowl_secret", "sendapp_api_key")]
    assert secrets and not [s for s in secrets if s in text] and set(env.values()) >= set(secrets)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    urls = {name: multi.api_url(name) for name in ("highlevel", "sendowl", "sendapp")}
    second = accounts[1].location_id
    resources = {k: r.for_location(second) for k, r in sandbox_locations_resources(urls, str(path)).items()}
    with resources["highlevel"].get_client() as client:
        assert client.search_contacts({"pageLimit": 1})["contacts"][0]["locationId"] == second
    with resources["sendapp"].get_client() as client:
        assert client.get_contact(min(multi.tenant("sendapp", second).store.contacts))["id"]
    database = Path(resources["duckdb"].location_database())
    assert database == tmp_path / "data" / "locations" / second / "etl.duckdb"
