"""End to end: Dagster materialises the extract assets against the sandbox over real loopback HTTP into DuckDB."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import httpx
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster_duckdb import DuckDBResource

from etl_project.definitions import EXTRACT_ASSETS
from etl_project.defs.partitions import MODE_TAG
from etl_project.defs.resources import HighLevelResource, SendAppResource, SendOwlResource
from etl_project.sandbox.server import Sandbox
from etl_project.warehouse.store import Warehouse
from etl_tests.conftest import (
    HEADERS,
    HISTORY_DAYS,
    LOCATION,
    SENDAPP_KEY,
    SENDOWL_KEY,
    SENDOWL_SECRET,
    TOKEN,
    Saved,
    backfill_tags,
    today,
)

pytestmark = pytest.mark.e2e

ASSETS = EXTRACT_ASSETS
PLATFORMS = ("highlevel", "sendapp", "sendowl")


def db(resources: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(resources["duckdb"].database, read_only=True)


def landed_plus_quarantined(resources: dict[str, Any], platform: str) -> dict[str, int]:
    @contextmanager
    def connect() -> Iterator[duckdb.DuckDBPyConnection]:
        with db(resources) as con:
            yield con

    return {kind: landed + held for kind, (landed, held, _) in Warehouse(connect).landed_counts(platform).items()}


def sandbox_counts(sandbox: Sandbox, platform: str) -> dict[str, int]:
    counts = httpx.get(f"{sandbox.base_url(platform)}/_sandbox/stats").json()["counts"]
    counts.pop("messages", None)
    return dict(counts)


@pytest.mark.usefixtures("history")
def test_backfill_lands_everything_and_a_rerun_adds_nothing(
    sandbox: Sandbox, resources: dict[str, Any], extracted_once: Saved
) -> None:
    """The history backfill (`extracted_once`, the whole seed over 91 daily partitions in one run), then again."""
    first = today() - timedelta(days=HISTORY_DAYS)
    result = extracted_once.result
    assert result.success
    for platform in PLATFORMS:
        assert landed_plus_quarantined(resources, platform) == sandbox_counts(sandbox, platform), platform
    with db(resources) as con:
        raw_before = con.execute("SELECT count(*) FROM raw_records").fetchone()
        ledger = con.execute(
            "SELECT count(*) FROM extract_ledger WHERE platform = 'highlevel' AND kind = 'contacts'"
        ).fetchone()
    assert ledger == (92,), "one ledger row per partition of the range"
    # Each partition's materialization shows that partition's own counts, as its ledger row says.
    with db(resources) as con:
        booked = dict(
            con.execute(
                "SELECT partition_key, records FROM extract_ledger WHERE platform = 'highlevel' AND kind = 'contacts'"
            ).fetchall()
        )
    shown = {m.partition: m.metadata["records"].value for m in result.asset_materializations_for_node("ghl_contacts")}
    assert shown == booked and len(set(shown.values())) > 1
    catalog = result.asset_materializations_for_node("ghl_contacts")[-1].metadata
    columns = {c.name for c in catalog["dagster/column_schema"].value.columns}
    assert {"id", "email", "date_updated"} <= columns
    with db(resources) as con:
        assert (catalog["dagster/row_count"].value,) == con.execute("SELECT count(*) FROM ghl_contacts").fetchone()

    again = dg.materialize(ASSETS, resources=resources, tags=backfill_tags(first, today()))
    for asset in ("ghl_contacts", "ghl_tasks", "sendapp_contacts", "sendapp_notes", "sendowl_orders"):
        meta = again.asset_materializations_for_node(asset)[0].metadata
        assert meta["new"].value == 0 and meta["changed"].value == 0, asset
    with db(resources) as con:
        assert con.execute("SELECT count(*) FROM raw_records").fetchone() == raw_before
        assert con.execute("SELECT count(*) - count(DISTINCT id) FROM ghl_tasks").fetchone() == (0,)


@pytest.mark.usefixtures("history")
def test_bad_email_is_quarantined_with_reason_and_run_succeeds(
    resources: dict[str, Any], extracted_once: Saved
) -> None:
    result = extracted_once.result
    with db(resources) as con:
        rows = con.execute(
            "SELECT record_id, reason, payload->>'email' FROM quarantine WHERE platform = 'highlevel' "
            "AND kind = 'contacts'"
        ).fetchall()
        sendapp_rows = con.execute("SELECT reason FROM quarantine WHERE platform = 'sendapp'").fetchall()
    assert rows, "the seed holds contacts with malformed emails"
    assert all("email" in reason and "valid email" in reason for _, reason, _ in rows)
    metas = [m.metadata for m in result.asset_materializations_for_node("ghl_contacts")]
    assert sum(meta["quarantined"].value for meta in metas) == len(rows)
    assert any("quarantine_reasons" in meta for meta in metas)
    assert sendapp_rows and all("email" in r for (r,) in sendapp_rows)


@pytest.mark.usefixtures("history")
def test_live_run_picks_up_an_update_and_moves_the_cursor(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    key = today().isoformat()
    with db(resources) as con:
        assert con.execute("SELECT count(*) FROM extract_cursors").fetchone() == (0,), "backfills never move it"

    live = dg.materialize(ASSETS, resources=resources, partition_key=key, tags={MODE_TAG: "incremental"})
    assert live.success
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS) as api:
        oldest = api.post(
            "/contacts/search",
            json={"locationId": LOCATION, "pageLimit": 1, "sort": [{"field": "dateUpdated", "direction": "asc"}]},
        )
        target = oldest.json()["contacts"][0]
        api.put(f"/contacts/{target['id']}", json={"firstName": "Renamed"})
        api.post(
            f"/contacts/{target['id']}/tasks",
            json={"title": "New task", "dueDate": "2026-12-24T09:00:00Z", "completed": False},
        )
    after = dg.materialize(ASSETS, resources=resources, partition_key=key, tags={MODE_TAG: "incremental"})
    meta = after.asset_materializations_for_node("ghl_contacts")[0].metadata
    assert meta["changed"].value == 1 and meta["records"].value <= 3, "only what changed since the cursor"
    with db(resources) as con:
        assert con.execute("SELECT first_name FROM ghl_contacts WHERE id = ?", [target["id"]]).fetchone() == (
            "Renamed",
        )
        assert con.execute(
            "SELECT count(*) FROM ghl_tasks WHERE contact_id = ? AND title = 'New task'", [target["id"]]
        ).fetchone() == (1,)
        cursor = con.execute("SELECT cursor_at FROM extract_cursors WHERE kind = 'contacts'").fetchone()
    assert cursor is not None and cursor[0] >= datetime.now(UTC) - timedelta(minutes=5)


def _materialize_range(url: str, sendapp: str, sendowl: str, database: str, first: str, last: str) -> bool:
    resources = {
        "highlevel": HighLevelResource(base_url=url, token=TOKEN, location_id=LOCATION),
        "sendapp": SendAppResource(base_url=sendapp, api_key=SENDAPP_KEY, min_interval_seconds=0.0),
        "sendowl": SendOwlResource(base_url=sendowl, key=SENDOWL_KEY, secret=SENDOWL_SECRET, min_interval_seconds=0.0),
        "duckdb": DuckDBResource(database=database),
    }
    tags = {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}
    return dg.materialize(ASSETS, resources=resources, tags=tags).success


def test_parallel_backfill_runs_share_duckdb_without_lock_failures(sandbox: Sandbox, tmp_path: Path) -> None:
    url, sendapp, sendowl = sandbox.base_url("highlevel"), sandbox.api_url("sendapp"), sandbox.api_url("sendowl")
    database = str(tmp_path / "shared.duckdb")
    start = today() - timedelta(days=90)
    ranges = [(start + timedelta(days=30 * i), start + timedelta(days=30 * i + 29)) for i in range(3)]
    # An executor, not multiprocessing.Pool: a worker that dies raises BrokenProcessPool instead of hanging.
    with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("spawn")) as pool:
        args = [(url, sendapp, sendowl, database, a.isoformat(), b.isoformat()) for a, b in ranges]
        outcomes = list(pool.map(_materialize_range, *zip(*args, strict=True)))
    assert outcomes == [True, True, True]
    with duckdb.connect(database, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM extract_ledger WHERE kind = 'contacts'").fetchone() == (180,)
        assert con.execute("SELECT count(*) - count(DISTINCT id) FROM ghl_contacts").fetchone() == (0,)


@pytest.mark.usefixtures("history")
def test_rotating_sweep_catches_children_of_unchanged_contacts(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS) as api:
        body = {"locationId": LOCATION, "pageLimit": 1, "sort": [{"field": "dateUpdated", "direction": "asc"}]}
        quiet = api.post("/contacts/search", json=body).json()["contacts"][0]  # untouched for weeks
        added = api.post(
            f"/contacts/{quiet['id']}/tasks",
            json={"title": "Quiet task", "dueDate": "2026-12-24T09:00:00Z", "completed": False},
        )
        assert api.get(f"/contacts/{quiet['id']}").json()["contact"]["dateUpdated"] == quiet["dateUpdated"]
    task_id = added.json()["task"]["id"]
    live = {"partition_key": today().isoformat(), "tags": {MODE_TAG: "incremental"}}
    url = sandbox.base_url("highlevel")
    no_sweep = {
        **resources,
        "highlevel": HighLevelResource(base_url=url, token=TOKEN, location_id=LOCATION, child_sweep_per_run=0),
    }
    dg.materialize(ASSETS, resources=no_sweep, **live)
    with db(resources) as con:
        assert con.execute("SELECT count(*) FROM ghl_tasks WHERE id = ?", [task_id]).fetchone() == (0,)
    # The sweep visits the parents fetched longest ago first; a window larger than the seed covers them all.
    sweeping = {
        **resources,
        "highlevel": HighLevelResource(base_url=url, token=TOKEN, location_id=LOCATION, child_sweep_per_run=500),
    }
    result = dg.materialize(ASSETS, resources=sweeping, **live)
    assert result.asset_materializations_for_node("ghl_tasks")[0].metadata["parents_fetched"].value >= 55
    with db(resources) as con:
        assert con.execute("SELECT count(*) FROM ghl_tasks WHERE id = ?", [task_id]).fetchone() == (1,)


@pytest.mark.usefixtures("history")
def test_sendowl_buyers_collapse_by_normalised_email(resources: dict[str, Any], extracted_once: Saved) -> None:
    result = extracted_once.result
    with db(resources) as con:
        emails = con.execute(
            "SELECT count(DISTINCT lower(trim(buyer_email))) FROM sendowl_orders WHERE buyer_email <> ''"
        ).fetchone()
        customers = con.execute("SELECT count(*) FROM sendowl_customers").fetchone()
        messy = con.execute(
            "SELECT count(*) FROM sendowl_orders WHERE buyer_email <> lower(trim(buyer_email))"
        ).fetchone()
        spent = con.execute(
            "SELECT sum(total_spent) = (SELECT sum(settled_gross) FROM sendowl_orders WHERE NOT refunded "
            "AND state IN ('complete', 'subscription_active', 'subscription_complete', 'subscription_cancelling', "
            "'subscription_cancelled') AND buyer_email <> '') FROM sendowl_customers"
        ).fetchone()
    assert customers == emails and customers is not None and customers[0] > 0
    assert messy is not None and messy[0] > 0, "the seed has buyers typed with other case or spaces"
    assert spent == (True,)
    meta = result.asset_materializations_for_node("sendowl_customers")[0].metadata
    assert meta["customers"].value == customers[0]
