"""Hourly incremental refresh of today's partition; nightly full re-read of yesterday's (the sync follows each:
`sync_trigger.py`)."""

from datetime import timedelta

import dagster as dg

from etl_project.defs.location_scope import for_each_location, location_tag
from etl_project.defs.partitions import MODE_TAG, daily_partitions

extract_job = dg.define_asset_job(
    "extract_job",
    selection=dg.AssetSelection.groups("extract"),
    partitions_def=daily_partitions,
    description="Extract every platform for one daily partition.",
)


@dg.schedule(
    cron_schedule="5 * * * *",
    job=extract_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def hourly_extract(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    """Today's partition, from the live cursor: only what changed since the last run (one run per active
    location in a many-location deployment)."""
    key = daily_partitions.get_partition_key_for_timestamp(context.scheduled_execution_time.timestamp())
    return for_each_location(lambda loc: _request(key, "incremental", loc))


def _request(partition_key: str, mode: str, location_id: str | None) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=f"{location_id}:{partition_key}:{mode}" if location_id else None,
        partition_key=partition_key,
        tags={MODE_TAG: mode, **location_tag(location_id)},
    )


@dg.schedule(
    cron_schedule="30 1 * * *",
    job=extract_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def nightly_reconciliation(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    """Yesterday's whole partition again, to catch changes the search index showed late."""
    yesterday = context.scheduled_execution_time - timedelta(days=1)
    key = daily_partitions.get_partition_key_for_timestamp(yesterday.timestamp())
    return for_each_location(lambda loc: _request(key, "full", loc))
