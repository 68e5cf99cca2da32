"""The daily UTC partitions every extract asset shares, and the read window of a partition run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from etl_project.settings import partitions_start_date
from etl_project.warehouse.store import Warehouse, Window

# end_offset=1 makes today's (still open) partition exist, so the hourly schedule can refresh it.
daily_partitions = dg.DailyPartitionsDefinition(start_date=partitions_start_date(), timezone="UTC", end_offset=1)

MODE_TAG = "etl/mode"  # "incremental" (hourly) or "full" (nightly): full ignores the live cursor
BACKFILL_TAG = "dagster/backfill"
# The run tags that make one run cover a range of partitions (a single-run backfill): the names Dagster reads
# (`RunRequest.partition_key_range`) and its UI sets. Dagster's public API has no name for them (of its run tags it
# exports only MAX_RUNTIME_SECONDS_TAG; `materialize` takes one partition key), so they are spelled here rather
# than imported from `dagster._core`; test_definitions checks they still match Dagster's own.
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def partition_range_tags(first: str, last: str) -> dict[str, str]:
    """Tags for one run over the partitions `first` to `last` (inclusive)."""
    return {PARTITION_RANGE_START_TAG: first, PARTITION_RANGE_END_TAG: last}


def partition_windows(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    platform: str,
    kind: str,
    lookback: timedelta,
    now: datetime | None = None,
) -> list[Window]:
    """One read window per partition of this run (a single-run backfill covers many partitions).

    Each window re-reads `lookback` before its start (the search index lags writes). For the live partition
    of a non-backfill, incremental run, reading starts at the live cursor minus the lookback instead of
    midnight, so hourly runs only fetch what changed since the last one.
    """
    now = now or datetime.now(UTC)
    tags = context.run.tags
    is_backfill = BACKFILL_TAG in tags or len(context.partition_keys) > 1
    full = tags.get(MODE_TAG) == "full"
    windows = []
    for key in context.partition_keys:
        tw = daily_partitions.time_window_for_partition_key(key)
        start, end = tw.start.astimezone(UTC), tw.end.astimezone(UTC)
        read_from = start - lookback
        live = start <= now < end and not is_backfill
        if live and not full:
            cursor = warehouse.get_cursor(platform, kind)
            if cursor is not None and cursor - lookback > read_from:
                read_from = cursor - lookback
        windows.append(Window(key, start, end, read_from, end, context.run.run_id, is_backfill or not live))
    return windows


def current_window(run_id: str, now: datetime | None = None) -> Window:
    """Today's partition window, for what is read whole and not partitioned (booked in the ledger under today)."""
    now = now or datetime.now(UTC)
    key = daily_partitions.get_partition_key_for_timestamp(now.timestamp())
    tw = daily_partitions.time_window_for_partition_key(key)
    start, end = tw.start.astimezone(UTC), tw.end.astimezone(UTC)
    return Window(key, start, end, start, end, run_id, True)
