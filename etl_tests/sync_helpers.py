"""Helpers for write-back tests: run the whole sync through Dagster and read the sandboxes' state over HTTP."""

from __future__ import annotations

from datetime import timedelta
from importlib import resources as pkg
from typing import Any

import dagster as dg
import httpx

from etl_project.definitions import EXTRACT_ASSETS
from etl_project.defs.partitions import MODE_TAG
from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.sync_run import SYNC_ASSETS, run_metadata
from etl_project.load.guard import ALLOW_MASS_CHANGE_TAG
from etl_project.sandbox.server import Sandbox
from etl_tests.conftest import HEADERS, HISTORY_DAYS, SENDAPP_KEY, backfill_tags, today

SYNC = SYNC_ASSETS  # the whole sync, as `sync_job` runs it
ALL_FLOWS = SyncConfigResource(path=str(pkg.files("etl_project.sync").joinpath("all_flows_sync.toml")))
metadata = run_metadata


def extract(resources: dict[str, Any], backfill: bool = False) -> None:
    """Today's extraction, as the hourly schedule runs it (`backfill`: the whole history again, in one run)."""
    if backfill:
        tags = backfill_tags(today() - timedelta(days=HISTORY_DAYS), today())
        assert dg.materialize(EXTRACT_ASSETS, resources=resources, tags=tags).success
    else:
        assert dg.materialize(EXTRACT_ASSETS, resources=resources, partition_key=today().isoformat()).success


def sync(
    resources: dict[str, Any],
    config: SyncConfigResource | None = None,
    *,
    allow_mass_change: bool = True,
    full: bool = False,
    tags: dict[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """Reconcile, plan and write back in one run (the first sync of seeded data changes many records).
    `full`: the nightly mode, which also lists every contact to detect deletions."""
    tags = {**(tags or {}), **({ALLOW_MASS_CHANGE_TAG: "true"} if allow_mass_change else {})}
    if full:
        tags[MODE_TAG] = "full"
    return dg.materialize(
        SYNC,
        resources={**resources, "sync_config": config or SyncConfigResource()},
        tags=tags,
        raise_on_error=False,
    )


def sendapp_contacts(sandbox: Sandbox) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with httpx.Client(base_url=sandbox.api_url("sendapp"), headers={"X-API-Key": SENDAPP_KEY}) as sa:
        page = 1
        while True:
            body = sa.get("/contacts", params={"page": page, "per_page": 100}).json()
            out += body["data"]
            if not body["meta"]["has_more"]:
                return out
            page += 1


def highlevel_contact(sandbox: Sandbox, contact_id: str) -> dict[str, Any]:
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS) as hl:
        response = hl.get(f"/contacts/{contact_id}")
        response.raise_for_status()
        return dict(response.json()["contact"])


def write_requests(sandbox: Sandbox) -> dict[str, int]:
    return {name: p.stats.write_requests for name, p in sandbox.platforms.items()}


def reset_stats(sandbox: Sandbox) -> None:
    for p in sandbox.platforms.values():
        p.stats.reset()
