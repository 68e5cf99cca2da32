"""The demo's last step: an edit in HighLevel and a SendOwl sale reach the other platforms through webhooks alone.

No scheduled run from here on: the stand-ins deliver signed webhooks to the receiver (a child process), and the
webhook sensor is ticked in this process on a short cadence (`SensorTicker`; the daemon ticks it every 30 s), each
run it requests executed to its end. The seconds printed run from the write to the tick after which the other
platform held it (the run's acknowledged write).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import httpx

from etl_project.defs.webhook_sensor import EVENTS_TAG
from etl_project.devtools.demo_sync import ALL_FLOWS, QUIET, write_requests
from etl_project.devtools.sql import demo_sql
from etl_project.devtools.webhook_ticks import SensorTicker, refresh_reads
from etl_project.webhooks import Inbox

MAX_TICKS = 8
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _report(ticker: SensorTicker, runs: list[dg.ExecuteInProcessResult], sent: dict[str, int], at: float) -> None:
    if not runs:
        print(f"   +{at:4.0f}s tick: no run ({ticker.skip_reason})")
    for run in runs:
        events = run.dagster_run.tags.get(EVENTS_TAG, "?")
        status = "ok" if run.success else "FAILED"
        print(
            f"   +{at:4.0f}s tick: run {run.run_id[:8]} {status}: {events} webhook event(s) → {refresh_reads(run)} "
            f"API read(s), then the sync; write requests at the sandbox: {sent}"
        )


def catch_up(ticker: SensorTicker, admin: dict[str, str]) -> None:
    """Drain what the demo's earlier steps sent (their edits, and the echoes of the sync's own writes): one run that
    re-reads those records and, the quiet sync having just written nothing, writes nothing."""
    inbox = Inbox(ticker.inbox)
    try:
        pending = inbox.counts().get("pending", 0)
    finally:
        inbox.close()
    print(f"\n== webhooks received during the demo so far: {pending} events in the inbox, drained by one tick")
    before = write_requests(admin)
    runs = ticker.tick()
    after = write_requests(admin)
    _report(ticker, runs, {k: after[k] - before[k] for k in after}, 0)
    ticker.tick()  # settles that run: its events are marked done


def through_webhooks(
    ticker: SensorTicker, resources: dict[str, Any], admin: dict[str, str], db_path: str, every: float
) -> None:
    print(
        f"\n== through webhooks alone (no scheduled run): the sensor ticked every {every:.0f}s here "
        "(every 30 s by the daemon)"
    )
    with duckdb.connect(db_path, read_only=True) as con:
        (contact_id, sendapp_id) = con.execute(demo_sql("select_demo_linked")).fetchone() or (None, None)
    name = f"Hooked{int(time.time()) % 10_000:04d}"
    hl_ui = f"{admin['highlevel']}/_sandbox/highlevel/contacts/{contact_id}"
    httpx.put(hl_ui, json={"lastName": name}, timeout=10).raise_for_status()
    edited = time.monotonic()
    print(f"   a user renamed HighLevel contact {contact_id} to '{name}' (flow 1: its SendApp twin {sendapp_id})")
    with resources["sendowl"].get_client() as client:
        product = int(client.list_products().valid[0][0].id)
    with resources["highlevel"].get_client() as client:
        page = client.search_contacts({"pageLimit": 20, "sort": [{"field": "dateUpdated", "direction": "asc"}]})
    buyer = next(c for c in page["contacts"] if EMAIL.match(c.get("email") or "") and c["id"] != contact_id)
    sale = {"product_id": product, "buyer_email": buyer["email"], "buyer_name": buyer.get("contactName")}
    shop = admin["sendowl"]
    response = httpx.post(f"{shop}/_sandbox/sendowl/purchase", json=sale, timeout=10)
    response.raise_for_status()
    order = response.json()["order"]
    sold = time.monotonic()
    print(f"   HighLevel contact {buyer['id']} bought on SendOwl, order {order['id']} (flow 3: a follow-up task)")

    def renamed() -> bool:
        with resources["sendapp"].get_client() as client:
            return bool(client.get_contact(int(sendapp_id)).get("last_name") == name)

    def task_written() -> bool:
        with duckdb.connect(db_path, read_only=True) as con:
            (n,) = con.execute(demo_sql("count_demo_order_tasks"), [str(order["id"])]).fetchone() or (0,)
        return int(n) == 1

    waits: dict[str, tuple[Callable[[], bool], float]] = {
        "HighLevel edit → SendApp": (renamed, edited),
        "SendOwl sale → HighLevel follow-up task": (task_written, sold),
    }
    took: dict[str, float] = {}
    origin = time.monotonic()
    for tick in range(1, MAX_TICKS + 1):
        time.sleep(max(0.0, origin + tick * every - time.monotonic()))
        before = write_requests(admin)
        runs = ticker.tick()
        after = write_requests(admin)
        _report(ticker, runs, {k: after[k] - before[k] for k in after}, time.monotonic() - origin)
        for label, (reached, since) in waits.items():
            if label not in took and reached():
                took[label] = time.monotonic() - since
        if len(took) == len(waits):
            break
    for label in waits:
        seconds = f"{took[label]:.1f}s" if label in took else f"NOT within {MAX_TICKS} ticks"
        print(f"   {label}: {seconds} after the write, through webhook → receiver → sensor → run")
    # The run's own HighLevel writes (the follow-up task, its note, tags) echo back as webhooks: their run re-reads
    # those records, so the warehouse holds them, and writes nothing back to HighLevel; what it sends SendApp is
    # those writes' own consequences (the task's twin, the note's copy: flows 4 and 5).
    time.sleep(1)
    for _ in range(3):
        before = write_requests(admin)
        runs = ticker.tick()
        after = write_requests(admin)
        if not runs:
            break
        print("   the echoes of that run's own HighLevel writes (their SendApp copies follow: flows 4 and 5):")
        _report(ticker, runs, {k: after[k] - before[k] for k in after}, time.monotonic() - origin)


def make_ticker(
    instance: dg.DagsterInstance, inbox: Path, resources: dict[str, Any], tags: dict[str, str]
) -> SensorTicker:
    """The sensor's runs carry `tags` (the location the receiver serves): the resources resolve it from them."""
    return SensorTicker(instance, inbox, resources, ALL_FLOWS, QUIET, tags)
