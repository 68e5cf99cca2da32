"""The demo's sync part: reconcile, plan, check and write back through Dagster, and say what happened."""

from __future__ import annotations

import time
from typing import Any

import dagster as dg
import httpx

from etl_project.defs.activity_assets import activity_changeset, activity_writes
from etl_project.defs.load_assets import (
    ALLOW_MASS_CHANGE_TAG,
    changeset_asset_checks,
    changeset_assets,
    write_assets,
)
from etl_project.defs.presence_assets import contact_presence
from etl_project.defs.reconcile_assets import SyncConfigResource, reconcile_contacts

SYNC = [
    contact_presence,
    reconcile_contacts,
    *changeset_assets,
    *write_assets,
    activity_changeset,
    activity_writes,
    *changeset_asset_checks,
]
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # the summary says it
TARGETS = ("sendapp", "highlevel")


def write_requests(admin_urls: dict[str, str]) -> dict[str, int]:
    """Write requests each sandbox has answered so far (whatever the answer)."""
    return {n: httpx.get(f"{u}/_sandbox/stats", timeout=10).json()["write_requests"] for n, u in admin_urls.items()}


def run_sync(
    label: str,
    resources: dict[str, Any],
    instance: dg.DagsterInstance,
    admin_urls: dict[str, str],
    tags: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    before = write_requests(admin_urls)
    started = time.monotonic()
    result = dg.materialize(
        SYNC,
        resources={**resources, "sync_config": SyncConfigResource()},
        instance=instance,
        run_config=QUIET,
        tags=tags or {},
        raise_on_error=False,
    )
    meta = {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None
    }
    after = write_requests(admin_urls)
    sent = {name: after[name] - before[name] for name in after}
    print(f"\n== {label}: run {result.run_id[:8]} in {time.monotonic() - started:.1f}s")
    if "contact_identities" in meta:
        ids, golden = meta["contact_identities"], meta["golden_contacts"]
        print(
            f"   matched: {golden['people']} people, {golden['in_two_or_more_platforms']} on two or more platforms; "
            + ", ".join(f"by {how} {ids[f'matched_by_{how}']}" for how in ("link", "email", "phone"))
            + f"; conflicts logged {ids['conflicts']}"
        )
    for check in result.get_asset_check_evaluations():
        if not check.passed:
            print(f"   check {check.asset_key.to_user_string()}.{check.check_name} FAILED: {check.description}")
    for target in TARGETS:
        plan = meta.get(f"{target}_changeset", {})
        writes = meta.get(f"{target}_writes")
        planned = f"{plan.get('create', 0)} creates, {plan.get('update', 0)} updates, {plan.get('delete', 0)} deletes"
        if writes is None:
            done = "writes stopped by the blocking checks"
        else:
            done = (
                f"acknowledged {writes.get('acknowledged', 0)}, failed {writes.get('failed', 0)}, "
                f"gave up {writes.get('dead', 0)}"
            )
        print(f"   {target:<10} planned {planned}; {done}; write requests at the sandbox: {sent.get(target, 0)}")
    return meta


def demo_sync(resources: dict[str, Any], instance: dg.DagsterInstance, admin_urls: dict[str, str]) -> None:
    """Flows 1 and 2: the first sync (stopped by the mass-change guard, then allowed once), then steady state."""
    run_sync("first sync (mass-change guard on)", resources, instance, admin_urls)
    run_sync(
        "first sync, allowed once (tag etl/allow-mass-change=true)",
        resources,
        instance,
        admin_urls,
        {ALLOW_MASS_CHANGE_TAG: "true"},
    )
