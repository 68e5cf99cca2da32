"""Plan and load (group `load`): per target, the operations the golden records need, stored in the outbox."""

import json

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.resources import get_warehouse
from etl_project.sync.plan import Operation, canonical, plan_target
from etl_project.sync.sources import golden_values
from etl_project.warehouse.derived import DerivedTables

# target platform → the flow that feeds it
TARGET_FLOWS = {"sendapp": "highlevel_contacts_to_sendapp", "highlevel": "sendapp_contacts_to_highlevel"}


def _frame(operations: list[Operation]) -> pd.DataFrame:
    rows = [
        (
            o.idempotency_key,
            o.platform,
            o.kind,
            o.person_id,
            o.target_id,
            json.dumps(o.fields, default=str),
            json.dumps(o.payload, default=str),
            json.dumps(sorted(o.fields)),
        )
        for o in operations
    ]
    columns = [
        "idempotency_key",
        "platform",
        "operation",
        "person_id",
        "target_id",
        "fields",
        "payload",
        "fields_changed",
    ]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def changeset_asset(platform: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"{platform}_changeset",
        group_name="load",
        kinds={"duckdb"},
        deps=["golden_contacts"],
        description=(
            f"Operations {platform} is missing: golden records (mapped fields, canonical form) against what "
            f"{platform} last acknowledged and what it holds now. Only true differences; stored in the outbox "
            "with deterministic idempotency keys before any call (dry run: logged only)."
        ),
    )
    def _asset(
        context: dg.AssetExecutionContext, duckdb: DuckDBResource, sync_config: SyncConfigResource
    ) -> dg.MaterializeResult:
        config = sync_config.load()
        target = config.targets.get(platform)  # type: ignore[call-overload]
        if target is None or not getattr(config.flows, TARGET_FLOWS[platform]):
            return dg.MaterializeResult(metadata={"operations": 0, "skipped": "flow off or no target configured"})
        derived = DerivedTables(get_warehouse(duckdb))
        ids, acked, payloads = derived.target_state(platform)
        observed = {
            person: {k: canonical(v) for k, v in golden_values(platform, payload, config.default_region).items()}
            for person, payload in payloads.items()
        }
        operations = plan_target(platform, target, derived.golden_records(), ids, acked, observed)
        new = derived.store_plan(_frame(operations), context.run.run_id, config.dry_run)
        by_kind = {kind: sum(1 for o in operations if o.kind == kind) for kind in ("create", "update")}
        sample = "\n".join(
            f"| {o.kind} | {o.person_id} | {o.target_id or ''} | {', '.join(o.fields)} |" for o in operations[:15]
        )
        return dg.MaterializeResult(
            metadata={
                "operations": len(operations),
                **by_kind,
                "new_in_outbox": new,
                "dry_run": config.dry_run,
                "sample": dg.MetadataValue.md(f"| op | person | {platform} id | fields |\n|---|---|---|---|\n{sample}"),
            }
        )

    return _asset


changeset_assets = [changeset_asset(platform) for platform in TARGET_FLOWS]
