"""Factories for the extract assets every platform shares: records by update window, and child lists."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import dagster as dg

from etl_project.defs.metadata import partition_result, table_metadata
from etl_project.defs.partitions import daily_partitions, partition_windows
from etl_project.defs.resources import get_warehouse
from etl_project.extract.runs import Fetch, Pages, extract_children, extract_updated
from etl_project.warehouse.store import Warehouse, Window
from etl_project.warehouse.tables import kind_table

OWNER = "team:data-sync"
# A single-run backfill lands a whole range in one run: one process, one client pacing one rate budget.
BACKFILL = dg.BackfillPolicy.single_run()


def _run_setup(context: dg.AssetExecutionContext, platform: str, kind: str) -> tuple[Any, Warehouse, list[Window]]:
    """The platform's resource, the warehouse, and this run's read windows."""
    resource = getattr(context.resources, platform)
    warehouse = get_warehouse(context.resources.duckdb)
    lookback = timedelta(minutes=resource.lookback_minutes)
    return resource, warehouse, partition_windows(context, warehouse, platform, kind, lookback)


def _has_account(context: dg.AssetExecutionContext, platform: str) -> bool:
    """Whether the run's location has an account on the platform (a location may have no SendOwl shop)."""
    return bool(getattr(getattr(context.resources, platform), "configured", True))


def skipped(platform: str) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"skipped": f"this location has no {platform} account"})


def _extract_asset_args(name: str, platform: str, description: str) -> dict[str, Any]:
    """What every extract asset shares: daily partitions, single-run backfills, the platform's API pool."""
    return {
        "name": name,
        "partitions_def": daily_partitions,
        "backfill_policy": BACKFILL,
        "group_name": "extract",
        "kinds": {"duckdb", platform},
        "owners": [OWNER],
        "tags": {"platform": platform},
        "pool": f"{platform}_api",
        "required_resource_keys": {platform, "duckdb"},
        "description": description,
    }


def updated_records_asset(
    *,
    name: str,
    platform: str,
    kind: str,
    pages: Callable[[Any, Any], Pages],
    updated_at: Callable[[Any], Any],
    description: str,
) -> dg.AssetsDefinition:
    @dg.asset(**_extract_asset_args(name, platform, description))
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        if not _has_account(context, platform):
            return skipped(platform)
        resource, warehouse, windows = _run_setup(context, platform, kind)
        with resource.get_client() as client:
            reports = extract_updated(client, warehouse, platform, kind, pages(client, resource), windows, updated_at)
        return partition_result(context, reports, windows, table_metadata(warehouse, kind_table(platform, kind).table))

    return _asset


def child_records_asset(
    *,
    name: str,
    platform: str,
    kind: str,
    parent: dg.AssetsDefinition,
    parent_kind: str,
    fetch: Callable[[Any], Fetch],
    description: str,
) -> dg.AssetsDefinition:
    @dg.asset(**_extract_asset_args(name, platform, description), deps=[parent])
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        if not _has_account(context, platform):
            return skipped(platform)
        resource, warehouse, windows = _run_setup(context, platform, kind)
        # The span the parent asset read for each partition (its ledger row), so an hourly run fetches
        # children only for the parents that hourly run saw change.
        spans = warehouse.ledger_windows(platform, parent_kind, [w.partition_key for w in windows])
        parents = warehouse.parents_updated_between(
            platform, parent_kind, [spans.get(w.partition_key, (w.read_from, w.read_to)) for w in windows]
        )
        if not windows[-1].is_backfill:
            # Rotating sweep: a few unchanged parents per live run, so children added without touching their
            # parent (the API gives no other way to see them) are caught within the daily budget.
            listed = {p for ps in parents for p in ps}
            sweep = warehouse.sweep_parents(platform, parent_kind, kind, resource.child_sweep_per_run)
            parents[-1] = [*parents[-1], *(p for p in sweep if p not in listed)]
        with resource.get_client() as client:
            reports = extract_children(client, warehouse, platform, kind, fetch(client), windows, parents)
        return partition_result(context, reports, windows, table_metadata(warehouse, kind_table(platform, kind).table))

    return _asset
