"""First run on a fresh install: one single-run backfill of every partition, so every record that exists is
extracted (the schedules read only recent windows) and no partition shows as missing in the UI."""

from __future__ import annotations

import json

import dagster as dg

from etl_project import settings
from etl_project.defs.location_scope import for_each_location, location_tag
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
    if settings.locations_file():
        return _onboard_new_locations(context)
    if context.cursor == "done":
        return dg.SkipReason("onboarding done")
    assert context.repository_def is not None
    keys = EXTRACT.resolve(context.repository_def.asset_graph)
    if any(context.instance.get_latest_materialization_event(key) is not None for key in keys):
        return dg.SensorResult(skip_reason="extract assets already materialized: nothing to onboard", cursor="done")
    partitions = daily_partitions.get_partition_keys()
    tags = {**partition_range_tags(partitions[0], partitions[-1]), MODE_TAG: "full"}
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=ONBOARDING_KEY, tags=tags)], cursor="done")


def _onboard_new_locations(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Many locations: each location's first run is its own backfill, launched once (its run key) when the location
    first appears, from the locations file or the agency's installs; the cursor lists the onboarded ones."""
    onboarded = set(json.loads(context.cursor)) if context.cursor and context.cursor != "done" else set()
    partitions = daily_partitions.get_partition_keys()
    tags = {**partition_range_tags(partitions[0], partitions[-1]), MODE_TAG: "full"}

    def backfill(location_id: str | None) -> dg.RunRequest:
        return dg.RunRequest(run_key=f"{ONBOARDING_KEY}:{location_id}", tags={**tags, **location_tag(location_id)})

    requests = [r for r in for_each_location(backfill) if r.tags.get("etl/location") not in onboarded]
    if not requests:
        return dg.SkipReason(f"{len(onboarded)} location(s) onboarded, none new")
    onboarded |= {r.tags["etl/location"] for r in requests}
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(sorted(onboarded)))
