"""`make demo`: start the sandbox, run the sync the way the schedules would, print what landed, stop the sandbox.

1. a single-run backfill of the last 91 days (the seeded history);
2. the hourly incremental run of today's partition (sets the live cursor);
3. an edit made in the sandbox, then the next hourly run, which picks up just that change;
4. the sync (reconcile, plan, blocking checks, write back): stopped first by the mass-change guard, then allowed
   once; an edit in SendApp reaches HighLevel; a last quiet sync sends zero writes;
5. webhooks: the webhook receiver runs beside the sandbox from the start, and the stand-ins deliver to it; one tick
   of the webhook sensor drains what the earlier steps sent, then an edit in HighLevel and a SendOwl sale reach the
   other platforms through webhooks alone (no scheduled run), with the seconds each took.

Two locations side by side (`demo_locations.py`): the sandbox serves two HighLevel locations, each with its own
SendOwl and SendApp account. Steps 1-5 are location 0001's story, told in this process; location 0002 is onboarded
at the same time in a process of its own (its backfill, its first sync), its lines printed as they come. Each
location writes its own warehouse; every run is tagged `etl/location=<id>`, which the resources resolve through the
demo's locations file. A table per location and a check that nothing crossed end the demo.

Runs are recorded in $DAGSTER_HOME, so `make ui` shows them afterwards.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import httpx

from etl_project import settings
from etl_project.definitions import EXTRACT_ASSETS
from etl_project.defs.location_scope import location_tag
from etl_project.defs.partitions import MODE_TAG, daily_partitions, partition_range_tags
from etl_project.devtools.demo_locations import (
    Beside,
    demo_instance,
    location_table,
    prepare,
    release_pools,
    warehouse_path,
)
from etl_project.devtools.demo_sync import ALL_FLOWS, demo_sync, extract_counts, run_sync
from etl_project.devtools.demo_webhooks import catch_up, make_ticker, through_webhooks
from etl_project.devtools.process import SandboxProcess
from etl_project.devtools.sql import demo_sql
from etl_project.devtools.wiring import (
    point_webhooks,
    receiver_env,
    running_locations,
    sandbox_locations_resources,
    scale_down_limits,
)
from etl_project.load.guard import ALLOW_MASS_CHANGE_TAG
from etl_project.sandbox.locations import LocationAccount
from etl_project.warehouse.store import Warehouse
from etl_project.webhooks.process import ReceiverProcess

ASSETS = EXTRACT_ASSETS  # the extract group, as extract_job selects it
PLATFORMS = ("highlevel", "sendowl", "sendapp")
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _run(
    label: str, resources: dict[str, Any], instance: dg.DagsterInstance, **kwargs: Any
) -> dict[str, dict[str, int]]:
    started = time.monotonic()
    result = dg.materialize(ASSETS, resources=resources, instance=instance, run_config=QUIET, **kwargs)
    seen = extract_counts(result)
    lines = [f"\n== {label}: run {result.run_id[:8]} ok in {time.monotonic() - started:.1f}s"]
    lines.append(f"   {'asset':<18}{'records':>9}{'new':>7}{'changed':>9}{'quarant.':>10}{'requests':>10}")
    for asset, m in seen.items():
        lines.append(
            f"   {asset:<18}{m['records']:>9}{m['new']:>7}{m['changed']:>9}{m['quarantined']:>10}{m['requests']:>10}"
        )
    print("\n".join(lines))  # one write: the other location's process prints to the same terminal
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--real-limits",
        action="store_true",
        help="wait on the stand-ins' modeled rate limits as on the real platforms (minutes longer)",
    )
    parser.add_argument(
        "--webhook-tick",
        type=float,
        default=float(os.environ.get("DEMO_WEBHOOK_TICK_SECONDS", "10")),
        help="seconds between the webhook sensor's ticks in the last step (the daemon's default: 30)",
    )
    options = parser.parse_args()
    if isinstance(sys.stdout, io.TextIOWrapper):  # whole lines, in order with the other location's process
        sys.stdout.reconfigure(line_buffering=True)
    real_limits = options.real_limits
    contacts = os.environ.get("DEMO_CONTACTS", "30")
    args = [*SandboxProcess.any_free_ports(), "--contacts", contacts, "--rate-limits", "real", "--locations", "2"]
    instance = demo_instance()  # $DAGSTER_HOME's, its platform pools sized for two locations
    # Fresh warehouses per demo (`prepare`): the sandbox reseeds its data relative to now on every start.
    data_dir = Path(os.environ.get("DEMO_DATA_DIR", os.path.join("data", "demo")))
    inbox = Path(settings.state_dir()) / "demo_webhook_inbox.sqlite3"  # fresh per demo, like the warehouse
    inbox.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (inbox, Path(f"{inbox}-wal"), Path(f"{inbox}-shm")):
        leftover.unlink(missing_ok=True)
    began = time.monotonic()
    with SandboxProcess(args) as sandbox, ExitStack() as stack:
        for name, url in sandbox.base_urls.items():
            print(f"sandbox: {name} at {url}")
        admin = {name: sandbox.admin_url(name) for name in PLATFORMS}
        accounts = running_locations(admin["highlevel"])
        locations_file = prepare(data_dir, accounts, ALL_FLOWS)
        location = accounts[0].location_id  # steps 1-5: location 0001's story; its receiver serves it alone
        scope = location_tag(location)
        db_path = str(warehouse_path(locations_file, location))
        receiver = stack.enter_context(ReceiverProcess(receiver_env(admin, str(inbox))))
        point_webhooks(admin, receiver.base_url)
        print(f"webhook receiver at {receiver.base_url}: HighLevel's and SendOwl's stand-ins deliver to it")
        if real_limits:
            limits = "the platforms' real rate limits (SendOwl 1 request/s, SendApp 60/min, HighLevel 100/10 s)"
        else:
            scale_down_limits({name: sandbox.admin_url(name) for name in PLATFORMS})
            limits = (
                "rate limits SCALED DOWN for the demo (SendOwl and SendApp ~25x, HighLevel 10x; --real-limits: real)"
            )
        print(f"{contacts} seeded HighLevel contacts per location (the other platforms overlap them); {limits}")
        _introduce(accounts, locations_file, db_path)
        urls, roots = json.dumps(sandbox.base_urls), json.dumps(admin)
        beside = stack.enter_context(Beside(accounts[1], locations_file, urls, roots, real_limits))
        scoped = sandbox_locations_resources(sandbox.base_urls, str(locations_file), fast_limits=not real_limits)
        resources = {name: resource.for_location(location) for name, resource in scoped.items()}
        today = datetime.now(UTC).date()
        first = max(today - timedelta(days=91), datetime.fromisoformat(settings.partitions_start_date()).date())
        backfill = partition_range_tags(first.isoformat(), today.isoformat())
        full = {**backfill, MODE_TAG: "full", **scope}
        _run("backfill of the last 91 days (one run)", resources, instance, tags=full)
        today_key = daily_partitions.get_partition_key_for_timestamp(time.time())
        live = {"partition_key": today_key, "tags": {MODE_TAG: "incremental", **scope}}
        _run("hourly run of today's partition", resources, instance, **live)
        with resources["highlevel"].get_client() as client:
            page = client.search_contacts({"pageLimit": 1, "sort": [{"field": "dateUpdated", "direction": "asc"}]})
            victim = page["contacts"][0]
            client.update_contact(victim["id"], {"firstName": f"{victim.get('firstName') or ''} (edited)".strip()})
        print(f"\n   edited HighLevel contact {victim['id']} in the sandbox (last touched {victim['dateUpdated']})")
        _run("next hourly run", resources, instance, **live)
        demo_sync(resources, instance, admin, scope)
        _run("next hourly run (picks up the sync's own writes)", resources, instance, **live)
        with duckdb.connect(db_path, read_only=True) as con:  # someone on both HighLevel and SendApp
            (sendapp_id,) = con.execute(demo_sql("select_demo_pair")).fetchone() or (None,)
            task = con.execute(demo_sql("select_demo_task")).fetchone()
        with resources["sendapp"].get_client() as client:
            client.update_contact(int(sendapp_id), {"last_name": "Edited-in-SendApp"})
            first_contact = client.get_contact(int(sendapp_id))
        print(f"\n   edited SendApp contact {first_contact['id']} (flow 2 should carry it to HighLevel)")
        with resources["highlevel"].get_client() as client:
            body = {"firstName": "Wren", "lastName": "Demo", "email": "wren.demo@example.com", "phone": "+14155550142"}
            wren = client.create_contact(body)
        print(f"   created HighLevel contact {wren['id']} with a phone (flows 1 and 6: SendApp contact, welcome)")
        if task is not None:
            with resources["highlevel"].get_client() as client:
                client.set_task_completed(task[0], task[1], True)
            print(f"   completed HighLevel task {task[1]} (flow 4: its SendApp twin {task[3]} should be done too)")
        buyer = {"buyer_email": "new.buyer@example.com", "buyer_name": "Nova Buyer"}
        purchase = {"product_id": _first_product(resources), **buyer}
        shop = sandbox.admin_url("sendowl")
        httpx.post(f"{shop}/_sandbox/sendowl/purchase", json=purchase, timeout=10).raise_for_status()
        print("   a new buyer bought on SendOwl (flow 3: HighLevel contact, tags, follow-up task, order note)")

        _run("next hourly run", resources, instance, **live)
        # Flow 3's new tags reach every buyer on SendApp: a deliberate bulk.
        allow = {ALLOW_MASS_CHANGE_TAG: "true", **scope}
        after = "sync after the SendApp edit, the new contact and the sale (bulk allowed)"
        run_sync(after, resources, instance, admin, allow)
        _run("next hourly run", resources, instance, **live)
        follow = "follow-up sync: the sync's own writes are seen, new buyers' orders get tagged (bulk allowed)"
        run_sync(follow, resources, instance, admin, allow)
        _run("next hourly run", resources, instance, **live)
        run_sync("quiet sync: nothing changed, so zero writes (guard on)", resources, instance, admin, scope)
        ticker = make_ticker(instance, inbox, resources, scope)
        catch_up(ticker, admin)
        through_webhooks(ticker, resources, admin, db_path, options.webhook_tick)
        # SendApp sends no webhooks: the writes the webhook runs made there are seen by the hourly run, as always.
        _run("next hourly run (sees the webhook runs' SendApp writes)", resources, instance, **live)
        stats = {name: httpx.get(f"{sandbox.admin_url(name)}/_sandbox/stats", timeout=10).json() for name in PLATFORMS}
        if task is not None:
            with resources["sendapp"].get_client() as client:
                twin = next(t for t, _ in client.get_tasks(int(task[2])).valid if str(t.id) == str(task[3]))
            print(f"\n   flow 4: the SendApp twin {task[3]} of the completed HighLevel task is now '{twin.status}'")
        ok = beside.wait()
        _summary(db_path, stats)
        ok = location_table(locations_file, accounts) and ok
    release_pools(instance)
    print(f"\ndemo finished in {time.monotonic() - began:.0f}s; sandbox stopped. `make ui` shows these runs.")
    return 0 if ok else 1


def _introduce(accounts: list[LocationAccount], locations_file: Path, db_path: str) -> None:
    (story, new) = accounts[:2]
    print(f"\n== two locations, side by side (locations file {locations_file}: it names each credential's")
    print("   environment variable, which the demo sets for itself): every run tagged etl/location=<id>")
    print(f"   {story.location_id} ({story.name}): the story below, in this process; warehouse {db_path}")
    print(f"   {new.location_id} ({new.name}): onboarded at the same time in a process of its own (its lines")
    print(f"   start [{new.location_id} +seconds]): the backfill of its last 91 days and its first sync, into its")
    print("   own warehouse")


def _first_product(resources: dict[str, Any]) -> int:
    with resources["sendowl"].get_client() as client:
        return int(client.list_products().valid[0][0].id)


def _summary(db_path: str, stats: dict[str, Any]) -> None:
    @contextmanager
    def connect() -> Iterator[duckdb.DuckDBPyConnection]:
        with duckdb.connect(db_path, read_only=True) as con:
            yield con

    warehouse = Warehouse(connect)
    print("\n== summary of the story: each sandbox vs what landed in DuckDB")
    print(f"   {'platform':<11}{'kind':<14}{'sandbox':>9}{'landed':>9}{'quarantined':>13}{'versions':>10}{'match':>7}")
    for platform in PLATFORMS:
        sandbox_counts = stats[platform]["counts"]
        for kind, (landed, held, versions) in warehouse.landed_counts(platform).items():
            expected = sandbox_counts.get(kind, 0)
            ok = "yes" if landed + held == expected else "NO"
            print(f"   {platform:<11}{kind:<14}{expected:>9}{landed:>9}{held:>13}{versions:>10}{ok:>7}")
    buyers = warehouse.query(demo_sql("count_demo_buyers"))
    print(f"   sendowl buyers (one per normalised email): {buyers[0][0]}, of which repeat buyers: {buyers[0][1]}")
    log = warehouse.query(demo_sql("select_demo_sync_log"))
    print("\n== sync log (every planned and executed operation, per platform, operation and status)")
    for platform, operation, status, n in log:
        print(f"   {platform:<11}{operation:<14}{status:<14}{n:>6}")
    for platform in PLATFORMS:
        s = stats[platform]
        print(
            f"   {platform}: {s['total']} requests answered by the sandbox (rate-limit refusals: {s['rate_limited']})"
        )


if __name__ == "__main__":
    sys.exit(main())
