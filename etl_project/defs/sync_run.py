"""The sync as one in-process run (what `sync_job` selects), for the demo and the tests, and its metadata."""

from collections.abc import Sequence
from typing import Any, Protocol

import dagster as dg

from etl_project.defs.activity_assets import activity_changeset, activity_writes
from etl_project.defs.health_checks import health_checks
from etl_project.defs.load_assets import changeset_asset_checks, changeset_assets, write_assets
from etl_project.defs.presence_assets import contact_presence
from etl_project.defs.reconcile_assets import reconcile_contacts

SYNC_ASSETS = [
    contact_presence,
    reconcile_contacts,
    *changeset_assets,
    *write_assets,
    activity_changeset,
    activity_writes,
    *changeset_asset_checks,
    *health_checks,
]


class Materialized(Protocol):
    """A finished run's materializations (an `ExecuteInProcessResult`, or a record of one)."""

    def get_asset_materialization_events(self) -> Sequence[dg.DagsterEvent]: ...


def run_metadata(result: Materialized) -> dict[str, dict[str, Any]]:
    """Each materialized asset's metadata values, by asset key."""
    return {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None
    }
