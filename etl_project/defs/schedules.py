"""Hourly incremental refresh of today's partition; nightly full re-read of yesterday's; after each successful
extract run, the sync (reconcile, plan, checks, write back) in the same mode."""

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


# Two syncs planning and writing the same outboxes at once would race: the instance runs them one at a time.
SYNC_TAG = "etl/sync"

sync_job = dg.define_asset_job(
    "sync_job",
    selection=dg.AssetSelection.groups("reconcile", "load"),
    description="Reconcile identities, plan each target's changes, check them, and write them back.",
    tags={SYNC_TAG: "write-back"},  # dagster.yaml queues these one at a time
)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[extract_job],
    request_job=sync_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def sync_after_extract(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    """Every successful extract run is followed by one sync run, in the same mode (full: deletions are checked)."""
    mode = context.dagster_run.tags.get(MODE_TAG, "incremental")
    return dg.RunRequest(run_key=context.dagster_run.run_id, tags={MODE_TAG: mode})
