"""Agency onboarding through the Company grant, end to end against the sandbox: the code traded for the Company
token, locations discovered, location tokens minted, renewed before expiry and after a server-side expiry, a newly
installed location picked up by the next tick, a suspended location paused, reported once and resumed."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
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
from etl_project.defs.onboarding import onboarding_backfill
from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.resources import HighLevelResource, SendAppResource, SendOwlResource, WarehouseResource
from etl_project.sandbox.server import Sandbox, SandboxConfig
from etl_project.sandbox.webhooks import SANDBOX_APP_ID
from etl_project.tenants.__main__ import main as tenants_cli
from etl_project.tenants.registry import UNINSTALLED_REASON
from etl_project.tenants.resolve import tenancy
from etl_tests.conftest import history_tags, today
from etl_tests.sync_helpers import sync

pytestmark = pytest.mark.e2e

COMPANY = "comp-sandbox-0001"


@dataclass
class World:
    sandbox: Sandbox
    file: Path
    ids: list[str]

    @property
    def url(self) -> str:
        return self.sandbox.base_url("highlevel")

    def resources(self) -> dict[str, Any]:
        sb, path = self.sandbox, str(self.file)
        return {
            "highlevel": HighLevelResource(base_url=self.url, locations_file=path),
            "sendowl": SendOwlResource(base_url=sb.base_url("sendowl"), locations_file=path, min_interval_seconds=0),
            "sendapp": SendAppResource(base_url=sb.api_url("sendapp"), locations_file=path, min_interval_seconds=0),
            "duckdb": WarehouseResource(locations_file=path),
        }

    def extract(self, location_id: str, history: bool = False) -> dg.ExecuteInProcessResult:
        """The location's history backfill, or (the token checks) an hourly run of today's partition."""
        if history:
            tags = {**history_tags(), LOCATION_TAG: location_id}
            return dg.materialize(EXTRACT_ASSETS, resources=self.resources(), tags=tags, raise_on_error=False)
        return dg.materialize(
            EXTRACT_ASSETS,
            resources=self.resources(),
            tags={LOCATION_TAG: location_id},
            partition_key=today().isoformat(),
            raise_on_error=False,
        )

    def token_file(self, location_id: str) -> Path:
        return tenancy(str(self.file)).access(location_id).token_path

    def admin(self, location_id: str, action: str) -> None:
        httpx.post(f"{self.url}/_sandbox/locations/{location_id}/{action}").raise_for_status()


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with Sandbox(SandboxConfig(contacts=20, seed=5, rate_limits="off", locations=2)) as sb:
        first = sb.location_accounts()[0]
        env = {
            "TEST_AGENCY_CLIENT_ID": "sandbox-client-id",
            "TEST_AGENCY_CLIENT_SECRET": "sandbox-client-secret",
            "TEST_L0_SENDOWL_KEY": first.sendowl_key,
            "TEST_L0_SENDOWL_SECRET": first.sendowl_secret,
            "TEST_L0_SENDAPP_KEY": first.sendapp_api_key,
            "TEST_L0_SENDAPP_CHANNEL": first.sendapp_channel_token,
            "HIGHLEVEL_BASE_URL": sb.base_url("highlevel"),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        # Location 0 is listed with its SendOwl and SendApp accounts (its HighLevel token is minted from the grant);
        # the agency's other locations are only discovered.
        path = tmp_path / "locations.toml"
        path.write_text(
            f'data_dir = "data"\n[agency]\ncompany_id = "{COMPANY}"\napp_id = "{SANDBOX_APP_ID}"\n'
            'client_id_env = "TEST_AGENCY_CLIENT_ID"\nclient_secret_env = "TEST_AGENCY_CLIENT_SECRET"\n'
            f'[[locations]]\nid = "{first.location_id}"\nsendowl_key_env = "TEST_L0_SENDOWL_KEY"\n'
            'sendowl_secret_env = "TEST_L0_SENDOWL_SECRET"\nsendapp_api_key_env = "TEST_L0_SENDAPP_KEY"\n'
            'sendapp_channel_token_env = "TEST_L0_SENDAPP_CHANNEL"\n'
        )
        monkeypatch.setenv("ETL_LOCATIONS_FILE", str(path))
        yield World(sb, path, [a.location_id for a in sb.location_accounts()])


def tick(sensor: Any, instance: dg.DagsterInstance, cursor: str | None) -> Any:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"alerts": AlertResource()})
    return sensor(context)


def test_agency_onboarding_discovers_mints_renews_and_pauses_one_location(world: World) -> None:
    loc0, loc1 = world.ids
    code = httpx.post(f"{world.url}/_sandbox/oauth/code", params={"user_type": "Company"}).json()["code"]
    assert tenants_cli(["authorize-agency", "--code", code]) == 0
    company = tenancy(str(world.file)).company_token_path
    assert stat.S_IMODE(company.stat().st_mode) == 0o600

    with dg.instance_for_test() as instance:
        # Discovery: the agency's second location joins the listed one; both are onboarded once.
        found = tick(location_registry, instance, None)
        assert found.asset_events[0].metadata["discovery"].value["added"] == [loc1]
        onboard = tick(onboarding_backfill, instance, None)
        assert sorted(r.tags[LOCATION_TAG] for r in onboard.run_requests) == [loc0, loc1]

        # Location tokens are minted from the grant and kept per location (owner-only).
        assert world.extract(loc1).success  # HighLevel only: its SendOwl and SendApp assets record "no account"
        token1 = json.loads(world.token_file(loc1).read_text())["access_token"]
        assert stat.S_IMODE(world.token_file(loc1).stat().st_mode) == 0o600
        config = SyncConfigResource(locations_file=str(world.file))
        # Its sync runs too, with the flows that need SendOwl or SendApp off: nothing planned for them.
        assert sync(world.resources(), config, tags={LOCATION_TAG: loc1}).success
        with duckdb.connect(str(tenancy(str(world.file)).access(loc1).warehouse_path), read_only=True) as db:
            planned = db.execute("SELECT platform FROM outbox UNION SELECT platform FROM activity_outbox")
            assert {p for (p,) in planned.fetchall()} <= {"highlevel"}
            (landed,) = db.execute("SELECT count(*) FROM ghl_contacts").fetchone() or (0,)
            assert landed > 0, "a contact the contact flow would copy to SendApp, had the location an account"
        first_run = world.extract(loc0, history=True)
        assert first_run.success
        assert sync(world.resources(), config, tags={LOCATION_TAG: loc0}).success

        # Renewed before it expires: a token with ten minutes left is replaced before the run uses it.
        saved = json.loads(world.token_file(loc1).read_text())
        world.token_file(loc1).write_text(json.dumps({**saved, "expires_at": time.time() + 600}))
        assert world.extract(loc1).success
        token2 = json.loads(world.token_file(loc1).read_text())["access_token"]
        assert token2 != token1
        # Expired early on the server (the client still thinks it valid): a 401, one re-mint, the run goes on.
        httpx.post(f"{world.url}/_sandbox/oauth/expire").raise_for_status()
        assert world.extract(loc1).success
        assert json.loads(world.token_file(loc1).read_text())["access_token"] != token2

        # A location installed later is picked up by the next ticks (and only it is onboarded).
        added = httpx.post(f"{world.url}/_sandbox/locations", json={"contacts": 5}).json()["locationId"]
        again = tick(location_registry, instance, found.cursor)
        assert again.asset_events[0].metadata["discovery"].value["added"] == [added]
        more = tick(onboarding_backfill, instance, onboard.cursor)
        assert [r.tags[LOCATION_TAG] for r in more.run_requests] == [added]

        # Suspended: its next run fails, it alone is paused with HighLevel's reason, and a person is told once.
        world.admin(loc1, "deactivate")
        assert not world.extract(loc1).success
        registry = tenancy(str(world.file)).registry
        assert "not active" in registry.get(loc1).reason.lower()  # type: ignore[union-attr]
        assert sorted(tenancy(str(world.file)).active_ids()) == sorted([loc0, added])
        told = tick(location_registry, instance, again.cursor)
        assert told.asset_events[0].metadata["pause_alerts"].value == 1
        # Reactivated: the next discovery mints again and resumes it; uninstalling pauses the new one.
        world.admin(loc1, "activate")
        world.admin(added, "uninstall")
        back = tick(location_registry, instance, told.cursor)
        assert back.asset_events[0].metadata["discovery"].value["resumed"] == [loc1]
        assert registry.get(loc1).active  # type: ignore[union-attr]
        assert registry.get(added).reason == UNINSTALLED_REASON  # type: ignore[union-attr]
        assert back.asset_events[0].metadata["pause_alerts"].value == 1  # the uninstall, once
        assert world.extract(loc1).success
