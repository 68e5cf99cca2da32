"""The demo's sync part: reconcile, plan, check and write back through Dagster, and say what happened."""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

import dagster as dg
import httpx

from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.sync_run import SYNC_ASSETS, run_metadata
from etl_project.load.guard import ALLOW_MASS_CHANGE_TAG
from etl_project.sync.config import load_config

# The demo switches on every flow that is built (`all_flows_sync.toml`); the shipped default has flows 1 and 2.
ALL_FLOWS = str(resources.files("etl_project.sync").joinpath("all_flows_sync.toml"))
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # the summary says it
TARGETS = ("sendapp", "highlevel")


def write_requests(admin_urls: dict[str, str]) -> dict[str, int]:
    """Write requests each sandbox has answered so far (whatever the answer)."""
    return {n: httpx.get(f"{u}/_sandbox/stats", timeout=10).json()["write_requests"] for n, u in admin_urls.items()}


COUNTS = ("records", "new", "changed", "quarantined", "requests")


def extract_counts(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, int]]:
    """Per asset of an extract run: records read, new, changed, quarantined and API requests. A single-run backfill
    books each partition's counts on its own materialization: they are added up here."""
    seen: dict[str, dict[str, int]] = {}
    for event in result.get_asset_materialization_events():
        meta = event.materialization.metadata
        assert event.asset_key is not None
        counts = seen.setdefault(event.asset_key.to_user_string(), dict.fromkeys(COUNTS, 0))
        for key in COUNTS:
            if key in meta:
                counts[key] += int(str(meta[key].value))
        if "customers" in meta:  # a derived table: its records are the buyers it holds
            counts["records"] = int(str(meta["customers"].value))
    return seen


def run_sync(
    label: str,
    platform_resources: dict[str, Any],
    instance: dg.DagsterInstance,
    admin_urls: dict[str, str],
    tags: dict[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    before = write_requests(admin_urls)
    started = time.monotonic()
    result = dg.materialize(
        SYNC_ASSETS,
        resources={**platform_resources, "sync_config": SyncConfigResource(path=ALL_FLOWS)},
        instance=instance,
        run_config=QUIET,
        tags=tags or {},
        raise_on_error=False,
    )
    meta = run_metadata(result)
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
    failed_checks = [c for c in result.get_asset_check_evaluations() if not c.passed]
    for check in failed_checks:
        print(f"   check {check.asset_key.to_user_string()}.{check.check_name} FAILED: {check.description}")
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE" and not failed_checks:
            print(f"   step {event.step_key} FAILED: {event.event_specific_data}")
    for target in TARGETS:
        plan = meta.get(f"{target}_changeset", {})
        writes = meta.get(f"{target}_writes")
        planned = f"{plan.get('create', 0)} creates, {plan.get('update', 0)} updates, {plan.get('delete', 0)} deletes"
        if writes is None:
            done = "no write step ran"
        elif "blocked" in writes:
            done = "writes blocked by the mass-change guard (the check above says how to approve)"
        else:
            done = (
                f"acknowledged {writes.get('acknowledged', 0)}, failed {writes.get('failed', 0)}, "
                f"gave up {writes.get('dead', 0)}"
            )
        print(f"   {target:<10} planned {planned}; {done}; write requests at the sandbox: {sent.get(target, 0)}")
    activity = {k: v for k, v in meta.get("activity_changeset", {}).items() if k.startswith("new.")}
    if activity:
        print("   activity flows, new this run: " + ", ".join(f"{k[4:]} {v}" for k, v in sorted(activity.items())))
    written = {k: v for k, v in meta.get("activity_writes", {}).items() if isinstance(v, int) and v}
    if written:
        print("   activity writes: " + ", ".join(f"{k} {v}" for k, v in sorted(written.items())))
    print(f"   write requests at the sandbox, all platforms: {sent}")
    return meta


def demo_sync(
    resources: dict[str, Any], instance: dg.DagsterInstance, admin_urls: dict[str, str], tags: dict[str, str]
) -> None:
    """The first sync (stopped by the mass-change guard, then allowed once); every flow on; `tags`: the location's."""
    flows = load_config(ALL_FLOWS).flows
    print("\nflows on: " + ", ".join(name for name, on in flows.model_dump().items() if on))
    run_sync("first sync (mass-change guard on)", resources, instance, admin_urls, tags)
    run_sync(
        "first sync, allowed once (tag etl/allow-mass-change=true)",
        resources,
        instance,
        admin_urls,
        {**tags, ALLOW_MASS_CHANGE_TAG: "true"},
    )
