"""SendOwl webhooks with many locations, over real HTTP: each location's shop (the sandbox's stand-in) posts to
`/webhooks/sendowl/<location id>`, signed with that shop's secret; the receiver checks it against the secret the
location names, stores the event with its location, and the sensor routes it to that location's run. A delivery
signed by another shop, for a location not listed, or to the one-shop path is refused and stored nowhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import httpx
import pytest

from etl_project.defs.location_scope import LOCATION_TAG
from etl_project.defs.webhook_sensor import drain
from etl_project.devtools.wiring import write_locations_file
from etl_project.sandbox.locations import LocationAccount, default_accounts
from etl_project.sandbox.server import Sandbox, SandboxConfig
from etl_project.webhooks import signing
from etl_project.webhooks.process import ReceiverProcess
from etl_tests.webhook_helpers import encode, inbox_rows, sendowl_body

pytestmark = pytest.mark.e2e  # the sandbox, the receiver process and the sensor together


@dataclass
class Shops:
    sandbox: Sandbox
    receiver: ReceiverProcess
    inbox: Path
    accounts: list[LocationAccount]

    def buy(self, account: LocationAccount, email: str) -> str:
        """A purchase in the account's shop (its stand-in then delivers `order.completed`); the order id."""
        url = self.sandbox.base_url("sendowl")
        product = next(iter(self.sandbox.tenant("sendowl", self.accounts.index(account)).store.products))
        sale = {"product_id": product, "buyer_email": email}
        answer = httpx.post(f"{url}/_sandbox/sendowl/purchase", params={"account": account.sendowl_key}, json=sale)
        answer.raise_for_status()
        return str(answer.json()["order"]["id"])


@pytest.fixture
def shops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shops]:
    accounts = default_accounts(3)
    # Listed: the first two (the third location's shop has no place here); its secrets live in the environment.
    path, env = write_locations_file(tmp_path, accounts[:2])
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ETL_LOCATIONS_FILE", str(path))
    inbox = tmp_path / "inbox.sqlite3"
    with ReceiverProcess({"WEBHOOK_INBOX_PATH": str(inbox)}) as receiver:
        shop_url = receiver.url("sendowl") + "/{location_id}"
        config = SandboxConfig(contacts=5, seed=11, rate_limits="off", locations=3, sendowl_webhook_url=shop_url)
        with Sandbox(config) as sandbox:
            assert [a.location_id for a in sandbox.location_accounts()] == [a.location_id for a in accounts]
            yield Shops(sandbox, receiver, inbox, accounts)


def test_each_shop_posts_to_its_location_and_its_run(shops: Shops) -> None:
    a, b, unlisted = shops.accounts
    bought = {a.location_id: shops.buy(a, "ana@example.com"), b.location_id: shops.buy(b, "ben@example.com")}
    shops.buy(unlisted, "una@example.com")
    for sender in shops.sandbox.senders():
        assert sender.wait_idle(60)
    rows = [r for r in inbox_rows(shops.inbox) if r["platform"] == "sendowl"]
    assert {r["location_id"]: r["record_id"] for r in rows} == bought, "each order stored once, with its location"
    assert all(r["dedupe_key"].startswith(f"sendowl:{r['location_id']}:") for r in rows)  # ids are per shop
    # The unlisted location's delivery was answered 200 (a retry cannot fix it) and stored nowhere.
    assert "location not configured" in shops.receiver.output()

    # The sensor: one run per location, each re-reading its own shop's order.
    with dg.instance_for_test() as instance:
        result = drain(dg.build_sensor_context(instance=instance), shops.inbox)
    assert isinstance(result, dg.SensorResult) and result.run_requests
    routed = {r.tags[LOCATION_TAG]: json.dumps(r.run_config) for r in result.run_requests}
    assert sorted(routed) == sorted(bought)
    for location, order in bought.items():
        assert order in routed[location] and all(order not in v for k, v in routed.items() if k != location)


def test_a_delivery_signed_by_another_shop_or_sent_to_the_wrong_path_is_refused(shops: Shops) -> None:
    a, b, unlisted = shops.accounts
    raw = encode(sendowl_body(4711))
    headers = {"content-type": "application/json", "x-sendowl-event": "order.completed"}
    base = shops.receiver.url("sendowl")

    def post(path: str, secret: str) -> httpx.Response:
        signed = {**headers, signing.SENDOWL_HEADER: signing.sign_sendowl(secret, raw)}
        return httpx.post(base + path, content=raw, headers=signed)

    assert post(f"/{a.location_id}", b.sendowl_secret).status_code == 401  # B's shop cannot post as A's
    assert post("", a.sendowl_secret).status_code == 404  # many locations: the path names the shop's location
    assert post(f"/{unlisted.location_id}", unlisted.sendowl_secret).json()["status"] == "ignored"
    assert inbox_rows(shops.inbox) == []
    assert post(f"/{a.location_id}", a.sendowl_secret).json() == {"status": "accepted"}
    assert post(f"/{b.location_id}", b.sendowl_secret).json() == {"status": "accepted"}  # same id, other shop
    output = shops.receiver.output()
    assert all(account.sendowl_secret not in output for account in shops.accounts)
