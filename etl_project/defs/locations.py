"""The locations of a many-location deployment in the UI: a sensor that discovers the agency's installs, shows
each location's status as the `locations` asset, and tells a person once when a location is paused."""

from __future__ import annotations

import json

import dagster as dg
from dagster_duckdb import DuckDBResource

from etl_project import settings
from etl_project.alerting.sink import Alert, raise_alert
from etl_project.defs.alerts import AlertResource
from etl_project.defs.extract_factory import OWNER
from etl_project.defs.metadata import markdown_table
from etl_project.defs.resources import get_warehouse
from etl_project.platforms.highlevel.agency import agency_client
from etl_project.platforms.http import tls_context
from etl_project.tenants.discovery import discover
from etl_project.tenants.resolve import Tenancy, tenancy

locations_asset = dg.AssetSpec(
    "locations",
    group_name="tenants",
    kinds={"highlevel"},
    owners=[OWNER],
    metadata={
        "dagster/code_references": dg.CodeReferencesMetadataValue(
            code_references=[dg.LocalFileCodeReference(file_path=__file__, line_number=1)]
        )
    },
    description="The HighLevel locations this deployment syncs, from the locations file and the agency's "
    "installs: each one's status (active, or paused and why). Reported by the `location_registry` sensor.",
)


def _discover(tenants: Tenancy) -> dict[str, dg.RawMetadataValue]:
    if tenants.agency is None:
        return {}
    client_id, client_secret = tenants.agency_secrets()
    with agency_client(
        settings.highlevel_base_url(),
        client_id,
        client_secret,
        tenants.company_token_path,
        tenants.agency.company_id,
        tenants.agency.app_id,
        verify=tls_context(),
    ) as client:
        found = discover(tenants, client)
    return {"listed": found.listed, "added": found.added, "uninstalled": found.uninstalled, "resumed": found.resumed}


def _alert_pauses(tenants: Tenancy, alerts: AlertResource, after: int) -> tuple[int, int]:
    """One alert per location paused since the event `after` (the registry's event log); the newest seen."""
    events = tenants.registry.events()
    sent = 0
    for at, location_id, event, detail in events[after:]:
        if event != "paused":
            continue
        text = f"Sync alert: location {location_id} paused at {at}: {detail}. Fix its access, then resume it."
        warehouse = get_warehouse(DuckDBResource(database=str(tenants.location_folder(location_id) / "etl.duckdb")))
        raise_alert(warehouse, alerts.webhook_url, Alert("location_paused", location_id, text))
        sent += 1
    return sent, len(events)


@dg.sensor(
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Many-location deployments: discovers the agency's installed locations (new ones are onboarded "
    "by `onboarding_backfill`), reports every location's status as the `locations` asset, and alerts once per pause.",
)
def location_registry(context: dg.SensorEvaluationContext, alerts: AlertResource) -> dg.SensorResult | dg.SkipReason:
    path = settings.locations_file()
    if not path:
        return dg.SkipReason("one location (no ETL_LOCATIONS_FILE): nothing to discover")
    tenants = tenancy(path)
    found = _discover(tenants)
    cursor = json.loads(context.cursor) if context.cursor else {"events": 0}
    sent, seen = _alert_pauses(tenants, alerts, int(cursor["events"]))
    states = tenants.registry.all()
    rows = [(s.id, s.name, s.source, s.status, s.reason, s.since) for s in states]
    metadata: dict[str, dg.RawMetadataValue] = {
        "active": sum(s.active for s in states),
        "paused": sum(not s.active for s in states),
        "locations": markdown_table(["id", "name", "source", "status", "reason", "since"], rows),
        **({"discovery": dg.MetadataValue.json(found)} if found else {}),
        "pause_alerts": sent,
    }
    return dg.SensorResult(
        asset_events=[dg.AssetMaterialization("locations", metadata=metadata)],
        cursor=json.dumps({"events": seen}),
    )
