"""Activity flows (group `load`): 3 (purchases → HighLevel), 4 (tasks both ways), 5 (notes and appointments →
SendApp) and 6 (welcome message), planned into the activity outbox once per source event, written after contacts."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.resources import get_warehouse
from etl_project.load.activities import execute_activities, metadata_counts
from etl_project.load.activity_plan import plan_activities
from etl_project.load.activity_writers import activity_writer
from etl_project.load.safety import real_write_refusal
from etl_project.warehouse.activities import ActivityOutbox

# Written in this order: SendApp (notes, messages), then HighLevel (tags, tasks, notes, welcome notes), SendOwl.
PLATFORMS = ("sendapp", "highlevel", "sendowl")


@dg.asset(
    group_name="load",
    kinds={"duckdb"},
    deps=["golden_contacts", "sendowl_orders", "ghl_notes", "ghl_appointments", "ghl_tasks", "sendapp_tasks"],
    description="Activity writes the enabled flows need: per SendOwl sale its tags, follow-up task and note (and "
    "per refund or chargeback a note and a tag), HighLevel notes and appointment changes for SendApp, and one "
    "welcome message per new person. Keyed by the source event, so each is stored once, ever.",
)
def activity_changeset(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, sync_config: SyncConfigResource
) -> dg.MaterializeResult:
    config = sync_config.load()
    plan = plan_activities(ActivityOutbox(get_warehouse(duckdb)), config, context.run.run_id)
    return dg.MaterializeResult(metadata=plan.metadata(config.dry_run))


@dg.asset(
    group_name="load",
    kinds={"duckdb"},
    deps=[activity_changeset, "highlevel_writes", "sendapp_writes"],
    pool="highlevel_api",  # most of its calls; every platform's pacing is shared between processes besides
    required_resource_keys={"highlevel", "sendapp", "sendowl", "duckdb", "sync_config"},
    description="Sends the pending activity writes after the contact writes (so new contacts exist): notes and "
    "tasks carry a marker to be found again after a lost answer; a message whose answer was lost is never re-sent.",
)
def activity_writes(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    config = context.resources.sync_config.load()
    if config.dry_run:
        return dg.MaterializeResult(metadata={"sent": 0, "skipped": "dry run: planned and logged only"})
    outbox = ActivityOutbox(get_warehouse(context.resources.duckdb))
    metadata: dict[str, object] = {}
    for platform in PLATFORMS:
        if not outbox.pending(platform, config.max_write_attempts):
            continue
        resource = getattr(context.resources, platform)
        refusal = real_write_refusal(platform, resource.base_url, config.allow_real_writes)
        if refusal:
            raise dg.Failure(refusal, allow_retries=False)
        with resource.get_client() as client:
            channel = resource.account()[2] if platform == "sendapp" else None
            writer = activity_writer(platform, client, channel)
            report = execute_activities(
                outbox,
                writer,
                context.run.run_id,
                config.max_write_attempts,
                config.welcome,
                context.log.warning,
                recreates_deleted=platform in config.targets and config.targets[platform].mode == "mirror",
            )
        metadata.update({f"{platform}.{k}": v for k, v in metadata_counts(report).items()})
    return dg.MaterializeResult(metadata=metadata)  # type: ignore[arg-type]
