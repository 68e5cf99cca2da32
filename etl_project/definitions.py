"""The project's single Dagster entry point (`workspace.yaml` and `[tool.dagster]` load it)."""

from __future__ import annotations

import dagster as dg

from etl_project import settings
from etl_project.defs.activity_assets import activity_changeset, activity_writes
from etl_project.defs.alerts import AlertResource, alert_on_failed_checks, alert_on_run_failure
from etl_project.defs.extract_factory import OWNER
from etl_project.defs.health_checks import health_checks
from etl_project.defs.highlevel_assets import ghl_child_assets, ghl_contacts
from etl_project.defs.load_assets import changeset_asset_checks, changeset_assets, write_assets
from etl_project.defs.locations import location_registry, locations_asset
from etl_project.defs.onboarding import onboarding_backfill
from etl_project.defs.presence_assets import contact_presence
from etl_project.defs.reconcile_assets import SyncConfigResource, reconcile_contacts
from etl_project.defs.resources import HighLevelResource, SendAppResource, SendOwlResource, WarehouseResource
from etl_project.defs.schedules import extract_job, hourly_extract, nightly_reconciliation
from etl_project.defs.sendapp_assets import sendapp_child_assets, sendapp_contacts
from etl_project.defs.sendowl_assets import sendowl_customers, sendowl_orders, sendowl_products
from etl_project.defs.sync_job import sync_job
from etl_project.defs.sync_trigger import sync_after_extract
from etl_project.defs.webhook_run import WEBHOOK_ASSETS, webhook_sync_job
from etl_project.defs.webhook_sensor import webhook_inbox_sensor


def highlevel_resource() -> HighLevelResource:
    # Secrets are bound as EnvVar: Dagster resolves them at run time and never shows their values.
    if settings.locations_file():  # many locations: each run's location brings its own credentials
        return HighLevelResource(base_url=settings.highlevel_base_url(), locations_file=settings.locations_file())
    if settings.highlevel_uses_oauth():
        return HighLevelResource(
            base_url=settings.highlevel_base_url(),
            location_id=dg.EnvVar("HIGHLEVEL_LOCATION_ID"),
            client_id=dg.EnvVar("HIGHLEVEL_CLIENT_ID"),
            client_secret=dg.EnvVar("HIGHLEVEL_CLIENT_SECRET"),
        )
    return HighLevelResource(
        base_url=settings.highlevel_base_url(),
        location_id=dg.EnvVar("HIGHLEVEL_LOCATION_ID"),
        token=dg.EnvVar("HIGHLEVEL_TOKEN"),
    )


def platform_resources() -> dict[str, dg.ConfigurableResource]:
    many = settings.locations_file()
    if many:
        return {
            "highlevel": highlevel_resource(),
            "sendowl": SendOwlResource(
                base_url=settings.sendowl_base_url(),
                locations_file=many,
                use_updated_after=settings.sendowl_use_updated_after(),
            ),
            "sendapp": SendAppResource(base_url=settings.sendapp_base_url(), locations_file=many),
        }
    return {
        "highlevel": highlevel_resource(),
        "sendowl": SendOwlResource(
            base_url=settings.sendowl_base_url(),
            key=dg.EnvVar("SENDOWL_KEY"),
            secret=dg.EnvVar("SENDOWL_SECRET"),
            use_updated_after=settings.sendowl_use_updated_after(),
        ),
        "sendapp": SendAppResource(
            base_url=settings.sendapp_base_url(),
            api_key=dg.EnvVar("SENDAPP_API_KEY"),
            channel_token=dg.EnvVar("SENDAPP_CHANNEL_TOKEN"),
        ),
    }


# Every asset names its owner and links to its code in the UI (the extract assets also carry their platform).
ASSETS = dg.with_source_code_references(
    dg.map_asset_specs(
        lambda spec: spec if spec.owners else spec.replace_attributes(owners=[OWNER]),
        [
            ghl_contacts,
            *ghl_child_assets,
            sendapp_contacts,
            *sendapp_child_assets,
            sendowl_orders,
            sendowl_products,
            sendowl_customers,
            contact_presence,
            reconcile_contacts,
            *changeset_assets,
            *write_assets,
            activity_changeset,
            activity_writes,
            *WEBHOOK_ASSETS,
            locations_asset,
        ],
    )
)


def assets_of(group: str) -> list[dg.AssetsDefinition]:
    """The assets of one group (`extract`, `reconcile`, `load`), in definition order: one list, selected by group."""
    return [a for a in ASSETS if isinstance(a, dg.AssetsDefinition) and group in a.group_names_by_key.values()]


EXTRACT_ASSETS = assets_of("extract")

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=[*changeset_asset_checks, *health_checks],
    jobs=[extract_job, sync_job, webhook_sync_job],
    schedules=[hourly_extract, nightly_reconciliation],
    sensors=[
        onboarding_backfill,
        sync_after_extract,
        webhook_inbox_sensor,
        location_registry,
        alert_on_run_failure,
        alert_on_failed_checks,
    ],
    resources={
        "highlevel": highlevel_resource(),
        **platform_resources(),
        "sync_config": SyncConfigResource(path=settings.sync_config_path(), locations_file=settings.locations_file()),
        "duckdb": WarehouseResource(database=settings.duckdb_path(), locations_file=settings.locations_file()),
        "alerts": AlertResource(
            webhook_url=dg.EnvVar("ETL_ALERT_WEBHOOK_URL") if settings.alert_webhook_configured() else None,
            ui_url=settings.dagster_ui_url(),
        ),
    },
    # Steps of one run share a platform's rate budget and DuckDB's single writer: run them in one process.
    executor=dg.in_process_executor,
)
