"""The demo's two locations: the sandbox serves two HighLevel locations (`--locations 2`), each with its own SendOwl
and SendApp account. A locations file in the demo's data folder lists both (docs/agencies.md); it names each
credential's environment variable, which the demo sets for its own process and its children only.

Location 0001 tells the demo's story in the demo's process; location 0002 is onboarded at the same time in a process
of its own (`demo_onboarding.py`), its lines printed as they come. Every run is tagged `etl/location=<id>`, which the
resources resolve to that location's credentials and its own warehouse, `<data>/locations/<id>/etl.duckdb`. The demo
ends with a table per location and a check that nothing crossed between them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

import dagster as dg
import duckdb

from etl_project.devtools.sql import demo_sql
from etl_project.devtools.wiring import write_locations_file
from etl_project.sandbox.locations import LocationAccount
from etl_project.tenants.resolve import tenancy
from etl_project.warehouse.store import Warehouse

LOCATIONS = 2  # the sandbox's locations, synced at the same time
PLATFORMS = ("highlevel", "sendowl", "sendapp")
FLOWS = (  # (label, what count_demo_writes_by_flow calls it)
    ("flow 1: contacts → SendApp", "contacts_to_sendapp"),
    ("flows 2, 3: contacts → HighLevel", "contacts_to_highlevel"),
    ("flow 3: a sale's tags, task, note", "sendowl_purchases_to_highlevel"),
    ("flow 4: task twins on SendApp", "highlevel_tasks_to_sendapp"),
    ("flow 5: notes, appointments → SendApp", "highlevel_activity_to_sendapp"),
    ("flow 6: welcome messages, their notes", "welcome_message"),
)


POOLS = ("highlevel_api", "sendowl_api", "sendapp_api")


def demo_instance() -> dg.DagsterInstance:
    """$DAGSTER_HOME's instance (ephemeral without it) with its platform pools sized to the locations running at
    once. The one-location instance (etl_project/dagster.yaml) admits one step per platform pool: one account's rate
    budget. Budgets are per location and account, so pools must not make locations wait for each other, as
    deploy/dagster.yaml says (the clients' pacing ledgers still guard each account). `release_pools` removes these
    limits at the end, so the instance's own `default_limit` applies again."""
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    for pool in POOLS:
        instance.event_log_storage.set_concurrency_slots(pool, LOCATIONS)
    return instance


def release_pools(instance: dg.DagsterInstance) -> None:
    for pool in POOLS:
        instance.event_log_storage.delete_concurrency_limit(pool)


def prepare(folder: Path, accounts: Sequence[LocationAccount], sync_config: str) -> Path:
    """A fresh data folder with the locations file; the credentials it names set in this process's environment."""
    for stale in ("locations.toml", "registry.sqlite", "registry.sqlite-wal", "registry.sqlite-shm"):
        (folder / stale).unlink(missing_ok=True)
    for leftover in folder.glob("locations/*/*"):  # each location's warehouse and token: the sandbox reseeds per start
        if leftover.is_file():
            leftover.unlink()
    path, env = write_locations_file(folder, accounts, sync_config, prefix="DEMO_LOC")
    os.environ.update(env)
    return path


def warehouse_path(locations_file: Path, location_id: str) -> Path:
    return tenancy(str(locations_file)).access(location_id).warehouse_path


class Beside:
    """A location onboarded in a process of its own while the demo tells its story (`demo_onboarding.py`); its
    lines go straight to the terminal. Leaving the block waits for it (stops it if the story failed)."""

    def __init__(self, account: LocationAccount, locations_file: Path, urls: str, admin: str, real: bool) -> None:
        self.account = account
        args = [account.location_id, "--locations-file", str(locations_file), "--urls", urls, "--admin", admin]
        self.cmd = [sys.executable, "-m", "etl_project.devtools.demo_onboarding", *args]
        self.cmd += ["--real-limits"] if real else []
        self.ok = False
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Beside:
        sys.stdout.flush()
        self._proc = subprocess.Popen(self.cmd)
        return self

    def wait(self) -> bool:
        """Wait for its runs to end; whether they all succeeded."""
        assert self._proc is not None
        if self._proc.poll() is None:
            print(f"\n   waiting for {self.account.location_id} to finish its runs ...", flush=True)
        self.ok = self._proc.wait() == 0
        return self.ok

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._proc is not None and self._proc.poll() is None:  # the story stopped early
            self._proc.terminate()
            self._proc.wait(timeout=30)


def _reader(path: Path) -> Warehouse:
    @contextmanager
    def connect() -> Iterator[duckdb.DuckDBPyConnection]:
        with duckdb.connect(str(path), read_only=True) as con:
            yield con

    return Warehouse(connect)


def location_table(locations_file: Path, accounts: Sequence[LocationAccount]) -> bool:
    """Per location: records landed per platform, acknowledged writes per flow (the whole demo), its warehouse; and
    whether anything crossed: each warehouse's HighLevel contacts are its own location's, no record id is in two."""
    ids = [a.location_id for a in accounts]
    paths = {loc: warehouse_path(locations_file, loc) for loc in ids}
    houses = {loc: _reader(path) for loc, path in paths.items()}
    landed = {loc: {p: sum(c[0] for c in w.landed_counts(p).values()) for p in PLATFORMS} for loc, w in houses.items()}
    writes = {loc: dict(w.query(demo_sql("count_demo_writes_by_flow"))) for loc, w in houses.items()}
    print("\n== each location in its own warehouse: records landed, writes acknowledged (the whole demo)")
    print(f"   {'':<40}" + "".join(f"{loc:>20}" for loc in ids))
    for platform in PLATFORMS:
        print(f"   {platform + ' records':<40}" + "".join(f"{landed[loc][platform]:>20}" for loc in ids))
    for label, flow in FLOWS:
        print(f"   {label:<40}" + "".join(f"{writes[loc].get(flow, 0):>20}" for loc in ids))
    own = {loc: {str(r[0]) for r in w.query(demo_sql("select_demo_location_ids"))} for loc, w in houses.items()}
    print(f"   {'ghl_contacts.location_id':<40}" + "".join(f"{', '.join(sorted(own[loc])):>20}" for loc in ids))
    for loc in ids:
        print(f"   {loc} warehouse: {paths[loc]}")
    records = {loc: set(w.query(demo_sql("select_demo_record_ids"))) for loc, w in houses.items()}
    shared = set.intersection(*records.values())
    isolated = all(own[loc] == {loc} for loc in ids) and not shared and len(set(paths.values())) == len(ids)
    if isolated:
        print(
            "   nothing crossed: each warehouse's ghl_contacts.location_id holds only its own location, and no "
            "contact or order id landed in both"
        )
    else:
        print(f"   CROSSED: location ids {own}; ids landed in both warehouses: {sorted(shared)[:5]}")
    return isolated
