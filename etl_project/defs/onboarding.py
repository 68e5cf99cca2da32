"""First run on a fresh install: one single-run backfill of every partition, so every record that exists is
extracted (the schedules read only recent windows) and no partition shows as missing in the UI."""

from __future__ import annotations

import dagster as dg

from etl_project.defs.partitions import MODE_TAG, daily_partitions, partition_range_tags
from etl_project.defs.schedules import extract_job
from etl_project.defs.sync_trigger import EXTRACT

ONBOARDING_KEY = "onboarding-backfill"


@dg.sensor(
    job=extract_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="On a fresh install (no extract asset ever materialized), one single-run backfill of every daily "
    "partition from ETL_PARTITIONS_START to today; the sync follows it, and its first mass change waits for the "
    "approval the guard asks for. Never again afterwards.",
)
def onboarding_backfill(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    if context.cursor == "done":
        return dg.SkipReason("onboarding done")
    assert context.repository_def is not None
    keys = EXTRACT.resolve(context.repository_def.asset_graph)
    if any(context.instance.get_latest_materialization_event(key) is not None for key in keys):
        return dg.SensorResult(skip_reason="extract assets already materialized: nothing to onboard", cursor="done")
    partitions = daily_partitions.get_partition_keys()
    tags = {**partition_range_tags(partitions[0], partitions[-1]), MODE_TAG: "full"}
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=ONBOARDING_KEY, tags=tags)], cursor="done")
