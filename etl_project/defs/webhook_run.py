"""The targeted run the webhook sensor launches: re-read exactly the records the claimed events named, then sync.

`webhook_sync_job` is the two refresh assets (group `webhooks`, one per platform pool) plus what `sync_job` runs
(groups `reconcile` and `load`). The records come through run config, one list per kind (`Targets.as_config`);
an asset with nothing to read does nothing. Both refreshes are upstream of the sync's one root (`contact_presence`),
so they land before the sync reads the warehouse; in `sync_job` they are outside the selection and do not run. A
failed refresh fails the run before anything is written (the sensor then hands the events back to the inbox).
"""

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from etl_project.defs.extract_factory import OWNER
from etl_project.defs.partitions import MODE_TAG, current_window
from etl_project.defs.resources import HighLevelResource, SendOwlResource, get_warehouse
from etl_project.defs.sync_job import SYNC_TAG
from etl_project.extract.targeted import Targets, refresh_highlevel, refresh_orders
from etl_project.warehouse.derived import DerivedTables


class HighLevelTargets(dg.Config):
    contacts: list[str] = Field(default_factory=list, description="Contact ids to re-read.")
    tasks: list[str] = Field(default_factory=list, description="Contacts whose task lists to re-read.")
    notes: list[str] = Field(default_factory=list, description="Contacts whose note lists to re-read.")
    appointments: list[str] = Field(default_factory=list, description="Contacts whose appointments to re-read.")


class SendOwlTargets(dg.Config):
    orders: list[str] = Field(default_factory=list, description="Order ids to re-read.")


@dg.asset(
    group_name="webhooks",
    kinds={"duckdb", "highlevel"},
    pool="highlevel_api",
    owners=[OWNER],
    tags={"platform": "highlevel"},
    description="HighLevel records named by webhooks, re-read by id (a contact; a contact's tasks, notes or "
    "appointments) and landed like the scheduled extraction; a 404 is marked deleted.",
)
def webhook_highlevel_refresh(
    context: dg.AssetExecutionContext, config: HighLevelTargets, highlevel: HighLevelResource, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    targets = Targets(
        contacts=tuple(config.contacts),
        tasks=tuple(config.tasks),
        notes=tuple(config.notes),
        appointments=tuple(config.appointments),
    )
    if not targets:
        return dg.MaterializeResult(metadata={"requests": 0})
    warehouse = get_warehouse(duckdb)
    with highlevel.get_client() as client:
        report = refresh_highlevel(client, warehouse, current_window(context.run.run_id), targets)
    return dg.MaterializeResult(metadata={"targets": targets.reads, **report.metadata()})


@dg.asset(
    group_name="webhooks",
    kinds={"duckdb", "sendowl"},
    pool="sendowl_api",
    owners=[OWNER],
    tags={"platform": "sendowl"},
    description="SendOwl orders named by webhooks, re-read by id and landed like the scheduled extraction; the "
    "buyer table is rebuilt from them.",
)
def webhook_sendowl_refresh(
    context: dg.AssetExecutionContext, config: SendOwlTargets, sendowl: SendOwlResource, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    if not config.orders:
        return dg.MaterializeResult(metadata={"requests": 0})
    warehouse = get_warehouse(duckdb)
    with sendowl.get_client() as client:
        report = refresh_orders(client, warehouse, current_window(context.run.run_id), config.orders)
    totals = DerivedTables(warehouse).rebuild_sendowl_customers()
    return dg.MaterializeResult(metadata={"targets": len(config.orders), **report.metadata(), **totals})


WEBHOOK_ASSETS = [webhook_highlevel_refresh, webhook_sendowl_refresh]

webhook_sync_job = dg.define_asset_job(
    "webhook_sync_job",
    selection=dg.AssetSelection.assets(*WEBHOOK_ASSETS) | dg.AssetSelection.groups("reconcile", "load"),
    description="Re-read the records webhooks named (run config), then reconcile, plan, check and write back.",
    # Queued with the other syncs, one at a time (dagster.yaml); incremental: no full listing for deletions.
    tags={SYNC_TAG: "write-back", MODE_TAG: "incremental"},
    executor_def=dg.in_process_executor,
)


def run_config(targets: Targets) -> dict[str, object]:
    """The run config that hands `targets` to the two refresh assets."""
    ops = {
        "webhook_highlevel_refresh": {
            "config": {k: list(getattr(targets, k)) for k in ("contacts", "tasks", "notes", "appointments")}
        },
        "webhook_sendowl_refresh": {"config": {"orders": list(targets.orders)}},
    }
    return {"ops": ops}
