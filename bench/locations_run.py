"""One run of one location, in a fresh process, as the deployment's run launcher starts it (not a test).

`bench/locations_bench.py` starts this script twice per location and cycle, as the deployment launches two runs:
`extract` (the extract assets for the cycle's partitions: a single-run backfill of the last BENCH_DAYS days, or
today's partition in incremental mode), then `sync` (the sync assets with the shipped sync config), both scoped to
the location by the `etl/location` tag. It prints one JSON line: the start-up cost (spawn to the run's first step;
CPU and RSS once imported and configured), the run's wall time, the process's CPU and peak RSS.

    python bench/locations_run.py LOCATION_ID backfill|hourly extract|sync   (environment: locations_bench.py)
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

SPAWNED_AT = float(os.environ.get("BENCH_SPAWNED_AT", time.time()))  # set by the parent just before the spawn

from datetime import UTC, datetime, timedelta  # noqa: E402 (the imports below are part of the measured start-up)
from typing import Any  # noqa: E402

import dagster as dg  # noqa: E402

from etl_project.definitions import EXTRACT_ASSETS  # noqa: E402
from etl_project.defs.location_scope import LOCATION_TAG  # noqa: E402
from etl_project.defs.partitions import MODE_TAG, daily_partitions, partition_range_tags  # noqa: E402
from etl_project.defs.reconcile_assets import SyncConfigResource  # noqa: E402
from etl_project.defs.resources import (  # noqa: E402
    HighLevelResource,
    SendAppResource,
    SendOwlResource,
    WarehouseResource,
)
from etl_project.defs.sync_run import SYNC_ASSETS  # noqa: E402
from etl_project.load.guard import ALLOW_MASS_CHANGE_TAG  # noqa: E402


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def resources(path: str) -> dict[str, Any]:
    """What the deployment binds (deploy/), pointed at the sandbox; the pacing knobs come from the parent."""
    urls = json.loads(os.environ["BENCH_URLS"])
    interval = float(os.environ.get("BENCH_MIN_INTERVAL", "1.0"))  # SendOwl's and SendApp's client pacing
    return {
        "highlevel": HighLevelResource(
            base_url=urls["highlevel"],
            locations_file=path,
            child_sweep_per_run=int(os.environ.get("BENCH_HL_SWEEP", "50")),
        ),
        "sendowl": SendOwlResource(base_url=urls["sendowl"], locations_file=path, min_interval_seconds=interval),
        "sendapp": SendAppResource(
            base_url=urls["sendapp"],
            locations_file=path,
            min_interval_seconds=interval,
            child_sweep_per_run=int(os.environ.get("BENCH_SENDAPP_SWEEP", "10")),
        ),
        "duckdb": WarehouseResource(locations_file=path),
    }


def first_step_at(instance: dg.DagsterInstance, run_id: str) -> float:
    starts = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
    return min(e.timestamp for e in starts) if starts else float("nan")


def failed_steps(result: dg.ExecuteInProcessResult) -> list[str]:
    return sorted({e.step_key or "?" for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE})


def run(location_id: str, cycle: str, phase: str) -> dict[str, Any]:
    path = os.environ["ETL_LOCATIONS_FILE"]
    bound = resources(path)
    setup = {"setup_cpu_s": cpu_seconds(), "setup_rss_mb": rss_mb()}
    instance = dg.DagsterInstance.ephemeral()
    location = {LOCATION_TAG: location_id}
    started = time.time()
    if phase == "sync":  # what sync_after_extract launches once the location's extraction finished
        tags = {**location, MODE_TAG: "incremental"}
        if cycle == "backfill":  # a location's first sync changes most of its records: the guard would stop it
            tags[ALLOW_MASS_CHANGE_TAG] = "true"
        sync_resources = {**bound, "sync_config": SyncConfigResource(locations_file=path)}
        result = dg.materialize(
            SYNC_ASSETS, resources=sync_resources, tags=tags, instance=instance, raise_on_error=False
        )
    elif cycle == "backfill":  # one run over the window's daily partitions, as the onboarding backfill launches it
        today = datetime.now(UTC).date()
        first = today - timedelta(days=int(os.environ.get("BENCH_DAYS", "30")) - 1)
        tags = {**location, **partition_range_tags(first.isoformat(), today.isoformat())}
        result = dg.materialize(EXTRACT_ASSETS, resources=bound, tags=tags, instance=instance, raise_on_error=False)
    else:  # the hourly schedule's run: today's partition, from the live cursor
        key = daily_partitions.get_partition_key_for_timestamp(time.time())
        tags = {**location, MODE_TAG: "incremental"}
        result = dg.materialize(
            EXTRACT_ASSETS, resources=bound, tags=tags, partition_key=key, instance=instance, raise_on_error=False
        )
    return {
        "location": location_id,
        "phase": phase,
        "ok": result.success,
        "failed_steps": failed_steps(result),
        "startup_s": first_step_at(instance, result.run_id) - SPAWNED_AT,
        "ready_s": started - SPAWNED_AT,
        **setup,
        "work_s": time.time() - started,
        "cpu_s": cpu_seconds(),
        "peak_rss_mb": rss_mb(),
    }


if __name__ == "__main__":
    print(json.dumps(run(*sys.argv[1:4])), flush=True)
