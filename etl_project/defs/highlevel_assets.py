"""HighLevel extraction assets (group `extract`): contacts by update window, then their children."""

from datetime import timedelta

import dagster as dg
from dagster_duckdb import DuckDBResource

from etl_project.defs.metadata import extract_metadata
from etl_project.defs.partitions import daily_partitions, partition_windows
from etl_project.defs.resources import HighLevelResource, get_warehouse
from etl_project.extract.highlevel import CHILD_KINDS, extract_children, extract_contacts

# A single-run backfill lands a whole range in one run: one process, one client pacing one rate budget.
BACKFILL = dg.BackfillPolicy.single_run()
POOL = "highlevel_api"  # runs that call HighLevel share one concurrency pool


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=BACKFILL,
    group_name="extract",
    kinds={"duckdb"},
    pool=POOL,
)
def ghl_contacts(
    context: dg.AssetExecutionContext, highlevel: HighLevelResource, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """HighLevel contacts whose `dateUpdated` falls in the partition's day (plus a lookback overlap).

    Landed idempotently: raw versions keyed by content hash, current state upserted by id. The live hourly
    run reads from its cursor; backfills and the nightly run read the whole day and never move the cursor.
    """
    warehouse = get_warehouse(duckdb)
    lookback = timedelta(minutes=highlevel.lookback_minutes)
    windows = partition_windows(context, warehouse, "highlevel", "contacts", lookback)
    with highlevel.get_client() as client:
        reports = extract_contacts(client, warehouse, windows)
    return dg.MaterializeResult(metadata=extract_metadata(reports, windows))


def _child_asset(kind: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"ghl_{kind}",
        partitions_def=daily_partitions,
        backfill_policy=BACKFILL,
        group_name="extract",
        deps=[ghl_contacts],
        kinds={"duckdb"},
        pool=POOL,
        description=(
            f"HighLevel {kind} of the contacts that changed in the partition's window. The API lists "
            f"{kind} per contact with no paging or date filter, so only changed contacts are fetched; each "
            "list is complete, so a child no longer listed is marked deleted."
        ),
    )
    def _asset(
        context: dg.AssetExecutionContext, highlevel: HighLevelResource, duckdb: DuckDBResource
    ) -> dg.MaterializeResult:
        warehouse = get_warehouse(duckdb)
        lookback = timedelta(minutes=highlevel.lookback_minutes)
        windows = partition_windows(context, warehouse, "highlevel", kind, lookback)
        # The span the contacts asset read for each partition (its ledger row), so an hourly run fetches
        # children only for the contacts that hourly run saw change.
        spans = warehouse.ledger_windows("highlevel", "contacts", [w.partition_key for w in windows])
        parents = warehouse.contacts_updated_between(
            [spans.get(w.partition_key, (w.read_from, w.read_to)) for w in windows]
        )
        with highlevel.get_client() as client:
            reports = extract_children(client, warehouse, kind, windows, parents)
        return dg.MaterializeResult(metadata=extract_metadata(reports, windows))

    return _asset


ghl_child_assets = [_child_asset(kind) for kind in CHILD_KINDS]
