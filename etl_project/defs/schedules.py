"""Hourly incremental refresh of today's partition; nightly full re-read of yesterday's (the sync follows each:
`sync_trigger.py`)."""

from datetime import timedelta

import dagster as dg

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
def hourly_extract(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Today's partition, from the live cursor: only what changed since the last run."""
    key = daily_partitions.get_partition_key_for_timestamp(context.scheduled_execution_time.timestamp())
    return dg.RunRequest(partition_key=key, tags={MODE_TAG: "incremental"})


@dg.schedule(
    cron_schedule="30 1 * * *",
    job=extract_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def nightly_reconciliation(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Yesterday's whole partition again, to catch changes the search index showed late."""
    yesterday = context.scheduled_execution_time - timedelta(days=1)
    key = daily_partitions.get_partition_key_for_timestamp(yesterday.timestamp())
    return dg.RunRequest(partition_key=key, tags={MODE_TAG: "full"})
