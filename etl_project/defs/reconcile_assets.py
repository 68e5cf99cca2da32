"""Reconcile (group `reconcile`): one identity per person across the platforms, and their golden records."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from etl_project.defs.highlevel_assets import ghl_contacts
from etl_project.defs.location_scope import LocationScoped, without_absent_platforms
from etl_project.defs.metadata import markdown_table, table_metadata
from etl_project.defs.presence_assets import contact_presence
from etl_project.defs.resources import get_warehouse
from etl_project.defs.sendapp_assets import sendapp_contacts
from etl_project.defs.sendowl_assets import sendowl_orders
from etl_project.sync.config import SyncConfig, load_config
from etl_project.sync.reconcile import reconcile
from etl_project.warehouse.derived import DerivedTables
from etl_project.warehouse.reconcile_frames import reconcile_frames


class SyncConfigResource(LocationScoped):
    """Where the sync configuration lives (TOML); empty means the shipped default (flows 1 and 2). In a
    many-location deployment, the run's location's own file (or the locations file's default)."""

    path: str = Field(default="", description="Path of the sync config file; empty: the shipped default.")

    def load(self) -> SyncConfig:
        if not self.locations_file:
            return load_config(Path(self.path) if self.path else None)
        access = self.run_location()[0]
        path = access.sync_config or self.path
        return without_absent_platforms(load_config(Path(path) if path else None), access)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "contact_identities",
            group_name="reconcile",
            kinds={"duckdb"},
            deps=[ghl_contacts, sendapp_contacts, sendowl_orders, contact_presence],
            description="The link table (platform, platform_id) → person, matched by existing link, then "
            "normalised email, then E.164 phone; ambiguous matches go to identity_conflicts.",
        ),
        dg.AssetSpec(
            "golden_contacts",
            group_name="reconcile",
            kinds={"duckdb"},
            deps=["contact_identities"],
            description="One record per person by the merge policy (source of truth per field, or "
            "last-writer-wins by when each platform's value changed). Deterministic.",
        ),
    ],
)
def reconcile_contacts(duckdb: DuckDBResource, sync_config: SyncConfigResource):  # type: ignore[no-untyped-def]
    derived = DerivedTables(get_warehouse(duckdb))
    config = sync_config.load()
    with derived.warehouse.held():  # warehouse-only: one opening of the file for the reads and the save
        result = reconcile(derived.contact_versions(), derived.identity_links(), config, derived.written_snapshots())
        derived.save_reconciliation(*reconcile_frames(result))
    summary = result.summary()
    conflicts = [(c.platform, c.platform_id, c.reason) for c in result.conflicts[:20]]
    yield dg.MaterializeResult(
        asset_key="contact_identities",
        metadata={
            **{k: v for k, v in summary.items() if k != "people"},
            "conflict_sample": markdown_table(["platform", "id", "reason"], conflicts),
            **table_metadata(derived.warehouse, "identity_links"),
        },
    )
    yield dg.MaterializeResult(
        asset_key="golden_contacts",
        metadata={
            "people": summary["people"],
            "in_two_or_more_platforms": summary["in_two_or_more_platforms"],
            **table_metadata(derived.warehouse, "golden_contacts"),
        },
    )
