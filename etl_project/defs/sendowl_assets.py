"""SendOwl extraction assets (group `extract`): orders by update window, products, and the buyers they imply."""

from datetime import timedelta
from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from etl_project.defs.extract_factory import OWNER, skipped, updated_records_asset
from etl_project.defs.metadata import extract_metadata, table_metadata
from etl_project.defs.partitions import current_window
from etl_project.defs.resources import SendOwlResource, get_warehouse
from etl_project.extract.runs import ExtractReport, Pages
from etl_project.warehouse.derived import DerivedTables
from etl_project.warehouse.store import Record


def _order_pages(client: Any, resource: SendOwlResource) -> Pages:
    def pages(start: Any, end: Any) -> Any:
        if resource.use_updated_after:
            return client.iter_orders(updated_after=start)
        # Without `updated_after` the only filter is the creation date: re-scan a trailing window so refunds and
        # chargebacks of recent orders are seen; unchanged orders land as no-ops.
        created_from = (start - timedelta(days=resource.trailing_days)).date()
        return client.iter_orders(created_from=created_from, created_to=end.date())

    return pages


sendowl_orders = updated_records_asset(
    name="sendowl_orders",
    platform="sendowl",
    kind="orders",
    pages=_order_pages,
    updated_at=lambda order: order.updated_at,
    description=(
        "SendOwl orders changed in the partition's window: `updated_after` when enabled (its support is uncertain), "
        "otherwise a trailing creation-date window. Money stays exact (strings → DECIMAL). Orders carry the buyers: "
        "SendOwl has no customer resource. Paced at one request a second."
    ),
)


@dg.asset(
    group_name="extract", kinds={"duckdb", "sendowl"}, pool="sendowl_api", owners=[OWNER], tags={"platform": "sendowl"}
)
def sendowl_products(
    context: dg.AssetExecutionContext, sendowl: SendOwlResource, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    """SendOwl's product catalogue (names for tags and task titles). Small, so it is read whole every run: not
    partitioned (it is booked in the ledger under the day it was read)."""
    if not sendowl.configured:
        return skipped("sendowl")
    warehouse = get_warehouse(duckdb)
    windows = [current_window(context.run.run_id)]
    with sendowl.get_client() as client:
        parsed = client.list_products()
        report = ExtractReport("products", requests=client.requests_sent)
    records = [Record(str(model.id), raw) for model, raw in parsed.valid]
    report.land = warehouse.land("sendowl", "products", windows[-1], records, parsed.rejected)
    report.note_rejects(parsed.rejected)
    warehouse.record_window("sendowl", "products", windows[-1], report.land, report.requests)
    return dg.MaterializeResult(
        metadata={**extract_metadata([report], windows), **table_metadata(warehouse, "sendowl_products")}
    )


@dg.asset(
    group_name="extract",
    kinds={"duckdb", "sendowl"},
    deps=[sendowl_orders, sendowl_products],
    owners=[OWNER],
    tags={"platform": "sendowl"},
)
def sendowl_customers(duckdb: DuckDBResource) -> dg.MaterializeResult:
    """One row per buyer (lower-cased, trimmed email): name, first and last order, orders, amount spent on paid
    orders that were not refunded, products bought, refunds and chargebacks. Rebuilt whole from current orders
    (not partitioned)."""
    warehouse = get_warehouse(duckdb)
    totals = DerivedTables(warehouse).rebuild_sendowl_customers()
    return dg.MaterializeResult(metadata={**totals, **table_metadata(warehouse, "sendowl_customers")})
