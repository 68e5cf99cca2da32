"""Many locations end to end: three HighLevel locations, each with its own SendOwl and SendApp accounts, synced by
concurrent runs with every flow on; nothing crosses locations; a location whose token is revoked is paused and
reported while the others complete."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources as package_files
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import httpx
import pytest

from etl_project.definitions import EXTRACT_ASSETS
from etl_project.defs.alerts import AlertResource
from etl_project.defs.location_scope import LOCATION_TAG
from etl_project.defs.locations import location_registry
from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.resources import HighLevelResource, SendAppResource, SendOwlResource, WarehouseResource
from etl_project.platforms.sendowl import SendOwlClient
from etl_project.sandbox.server import Sandbox, SandboxConfig
from etl_project.tenants.resolve import tenancy
from etl_tests.conftest import history_tags
from etl_tests.sync_helpers import sync

pytestmark = pytest.mark.e2e

ALL_FLOWS = str(package_files.files("etl_project.sync") / "all_flows_sync.toml")
VERSION = {"Version": "2021-07-28"}


@dataclass
class Agency:
    sandbox: Sandbox
    file: Path
    ids: list[str]
    accounts: list[Any]

    def resources(self) -> dict[str, Any]:
        sb, path = self.sandbox, str(self.file)
        return {
            "highlevel": HighLevelResource(base_url=sb.base_url("highlevel"), locations_file=path),
            "sendowl": SendOwlResource(base_url=sb.base_url("sendowl"), locations_file=path, min_interval_seconds=0),
            "sendapp": SendAppResource(base_url=sb.api_url("sendapp"), locations_file=path, min_interval_seconds=0),
            "duckdb": WarehouseResource(locations_file=path),
        }

    def warehouse(self, location_id: str) -> Path:
        return tenancy(str(self.file)).access(location_id).warehouse_path


def locations_file(tmp_path: Path, accounts: list[Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    lines = ['data_dir = "data"']
    for i, acc in enumerate(accounts):
        secrets = {
            "highlevel_token_env": acc.highlevel_token,
            "sendowl_key_env": acc.sendowl_key,
            "sendowl_secret_env": acc.sendowl_secret,
            "sendapp_api_key_env": acc.sendapp_api_key,
            "sendapp_channel_token_env": acc.sendapp_channel_token,
        }
        lines += ["[[locations]]", f'id = "{acc.location_id}"', f'name = "{acc.name}"', f'sync_config = "{ALL_FLOWS}"']
        for key, value in secrets.items():
            name = f"TEST_LOC{i}_{key.removesuffix('_env').upper()}"
            monkeypatch.setenv(name, value)
            lines.append(f'{key} = "{name}"')
    path = tmp_path / "locations.toml"
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("ETL_LOCATIONS_FILE", str(path))
    return path


@pytest.fixture
def agency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Agency]:
    with Sandbox(SandboxConfig(contacts=20, seed=11, rate_limits="off", locations=3)) as sb:
        accounts = sb.location_accounts()
        path = locations_file(tmp_path, accounts, monkeypatch)
        yield Agency(sb, path, [a.location_id for a in accounts], accounts)


def run_location(
    agency: Agency, location_id: str
) -> tuple[dg.ExecuteInProcessResult, dg.ExecuteInProcessResult | None]:
    """History backfill then the all-flows sync, for one location (as its own runs would)."""
    tags = {LOCATION_TAG: location_id}
    extracted = dg.materialize(
        EXTRACT_ASSETS, resources=agency.resources(), tags={**history_tags(), **tags}, raise_on_error=False
    )
    if not extracted.success:
        return extracted, None
    config = SyncConfigResource(locations_file=str(agency.file))
    return extracted, sync(agency.resources(), config, tags=tags)


def emails_in_highlevel(sb: Sandbox, location_id: str, token: str) -> set[str]:
    with httpx.Client(base_url=sb.base_url("highlevel"), headers={"Authorization": f"Bearer {token}", **VERSION}) as c:
        out: set[str] = set()
        page = 1
        while True:
            query = {"locationId": location_id, "pageLimit": 100, "page": page}
            body = c.post("/contacts/search", json=query).json()
            contacts = body.get("contacts", [])
            out |= {str(x["email"]).strip().lower() for x in contacts if x.get("email")}
            if len(contacts) < 100:
                return out
            page += 1


def emails_in_sendapp(sb: Sandbox, api_key: str) -> set[str]:
    out: set[str] = set()
    with httpx.Client(base_url=sb.api_url("sendapp"), headers={"X-API-Key": api_key}) as c:
        page = 1
        while True:
            body = c.get("/contacts", params={"page": page, "per_page": 100}).json()
            out |= {str(x["email"]).strip().lower() for x in body["data"] if x.get("email")}
            if not body["meta"]["has_more"]:
                return out
            page += 1


def emails_in_sendowl(sb: Sandbox, key: str, secret: str) -> set[str]:
    http = httpx.Client(base_url=sb.base_url("sendowl"), auth=httpx.BasicAuth(key, secret))
    with SendOwlClient(http) as client:
        return {
            str(o.buyer_email).strip().lower() for page in client.iter_orders() for o, _ in page.valid if o.buyer_email
        }


def people(sb: Sandbox, acc: Any) -> set[str]:
    """Every email the location's three accounts hold."""
    return (
        emails_in_highlevel(sb, acc.location_id, acc.highlevel_token)
        | emails_in_sendapp(sb, acc.sendapp_api_key)
        | emails_in_sendowl(sb, acc.sendowl_key, acc.sendowl_secret)
    )


def write_counts(sb: Sandbox) -> dict[str, int]:
    """Write requests each platform's stand-ins received, over every location."""
    counts = {}
    for name in ("highlevel", "sendowl", "sendapp"):
        stats = httpx.get(
            f"{sb.base_url(name)}/_sandbox/stats", params={"location" if name == "highlevel" else "account": "all"}
        )
        counts[name] = stats.json()["total"]["write_requests"]
    return counts


def test_three_locations_sync_apart_and_a_revoked_one_is_paused(agency: Agency) -> None:
    sb = agency.sandbox
    a, b, c = agency.ids
    before = {loc: people(sb, acc) for loc, acc in zip(agency.ids, agency.accounts, strict=True)}
    httpx.post(f"{sb.base_url('highlevel')}/_sandbox/locations/{c}/revoke").raise_for_status()

    # The three locations' runs at the same time: each opens only its own DuckDB file.
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(zip(agency.ids, pool.map(lambda loc: run_location(agency, loc), agency.ids), strict=True))

    for loc in (a, b):
        extracted, synced = results[loc]
        assert extracted.success and synced is not None and synced.success, loc
    assert not results[c][0].success and results[c][1] is None
    state = tenancy(str(agency.file)).registry.get(c)
    assert state is not None and not state.active and "HighLevel refused the credentials" in state.reason
    assert tenancy(str(agency.file)).active_ids() == sorted([a, b])

    # Nothing crossed: every email a location's platforms hold now was already in that location before.
    for loc, acc in zip((a, b), agency.accounts[:2], strict=True):
        after = people(sb, acc)
        foreign = set().union(*(before[o] for o in agency.ids if o != loc)) - before[loc]
        assert not (after & foreign), f"{loc} received another location's people"
        assert after - before[loc] <= set(), f"{loc} gained people from nowhere"
        with duckdb.connect(str(agency.warehouse(loc)), read_only=True) as db:
            landed = {r[0] for r in db.execute("SELECT DISTINCT location_id FROM ghl_contacts").fetchall()}
            golden = db.execute("SELECT count(*) FROM golden_contacts").fetchone()
        assert landed == {loc} and golden is not None and golden[0] > 0
    assert agency.warehouse(a) != agency.warehouse(b)

    # Each location converges: the all-flows sync settles within its second run (the first run's creates are
    # followed up once, e.g. SendOwl order tags), and a third writes nothing.
    config = SyncConfigResource(locations_file=str(agency.file))
    for loc in (a, b):
        assert sync(agency.resources(), config, tags={LOCATION_TAG: loc}).success
    writes = write_counts(sb)
    for loc in (a, b):
        assert sync(agency.resources(), config, tags={LOCATION_TAG: loc}).success
    assert write_counts(sb) == writes

    # The pause is reported once, with the location's status shown in the UI's `locations` asset.
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"alerts": AlertResource()})
        first = location_registry(context)
        assert isinstance(first, dg.SensorResult)
        assert first.asset_events[0].metadata["paused"] == dg.MetadataValue.int(1)
        assert first.asset_events[0].metadata["pause_alerts"] == dg.MetadataValue.int(1)
        context.update_cursor(first.cursor)
        again = location_registry(context)
        assert isinstance(again, dg.SensorResult)
        assert again.asset_events[0].metadata["pause_alerts"] == dg.MetadataValue.int(0)
    with duckdb.connect(str(agency.warehouse(c)), read_only=True) as db:
        alerts = db.execute("SELECT count(*) FROM alerts WHERE kind = 'location_paused'").fetchone()
    assert alerts == (1,)
