"""Plan and load (group `load`): per target, the operations the golden records need (the outbox), the blocking
checks that guard them, and the write asset that sends them through the platform's client."""

from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from etl_project.defs.metadata import markdown_table, table_metadata
from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.resources import get_warehouse
from etl_project.load import guard, safety
from etl_project.load.changeset import TARGET_FLOWS, Changeset, plan_changeset
from etl_project.load.executor import ExecutionReport, execute
from etl_project.load.outcome import WritesOutcome, blocked_outcome, writes_outcome
from etl_project.load.writers import TargetWriter, contact_writer
from etl_project.warehouse.outbox import Outbox
from etl_project.warehouse.store import Warehouse


def _changeset_metadata(changeset: Changeset, dry_run: bool, warehouse: Warehouse) -> dict[str, Any]:
    platform = changeset.platform
    sample = [(o.kind, o.person_id, o.target_id, ", ".join(o.fields)) for o in changeset.operations[:15]]
    return {
        "operations": len(changeset.operations),
        **changeset.by_kind(),
        "candidates": changeset.candidates,
        "blocked_creates": changeset.blocked_creates,
        "new_in_outbox": changeset.new_in_outbox,
        "superseded": changeset.superseded,
        "dry_run": dry_run,
        "sample": markdown_table(["op", "person", f"{platform} id", "fields"], sample),
        **table_metadata(warehouse, "outbox"),
    }


def changeset_asset(platform: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"{platform}_changeset",
        group_name="load",
        kinds={"duckdb"},
        deps=["golden_contacts"],
        description=(
            f"Operations {platform} is missing: golden records (mapped fields, canonical form) against the "
            f"freshest knowledge of {platform}'s records (latest extraction or last acknowledged write). Only true "
            "differences; stored in the outbox with deterministic idempotency keys before any call."
        ),
    )
    def _asset(
        context: dg.AssetExecutionContext, duckdb: DuckDBResource, sync_config: SyncConfigResource
    ) -> dg.MaterializeResult:
        config, warehouse = sync_config.load(), get_warehouse(duckdb)
        changeset = plan_changeset(Outbox(warehouse), platform, config, context.run.run_id)
        if changeset.skipped:
            return dg.MaterializeResult(metadata={"operations": 0, "skipped": changeset.skipped})
        return dg.MaterializeResult(metadata=_changeset_metadata(changeset, config.dry_run, warehouse))

    return _asset


def changeset_checks(platform: str) -> list[dg.AssetChecksDefinition]:
    """The safety verdicts, shown in the UI. Not Dagster-blocking: the write asset enforces them for its own
    target only, so one target's block never stops the other targets' writes (or the activity writes)."""
    asset = dg.AssetKey(f"{platform}_changeset")

    def result(verdict: safety.Verdict) -> dg.AssetCheckResult:
        return dg.AssetCheckResult(
            passed=verdict.passed,
            description=verdict.message,
            metadata=verdict.details,
            severity=dg.AssetCheckSeverity.ERROR,
        )

    @dg.asset_check(asset=asset, name="unique_platform_ids", description="No ambiguous writes.")
    def _unique(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        return result(safety.unique_ids(get_warehouse(duckdb), platform))

    @dg.asset_check(asset=asset, name="match_keys", description="Every planned person has a key.")
    def _keys(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        return result(safety.match_keys(get_warehouse(duckdb), platform))

    @dg.asset_check(
        asset=asset,
        name="mass_change_guard",
        description=f"Stops writes to {platform} when a plan updates or deletes more than the configured share of "
        f"its records for a cause nobody approved; the failure says how to approve it once from the UI.",
    )
    def _mass(
        context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource, sync_config: SyncConfigResource
    ) -> dg.AssetCheckResult:
        warehouse, config = get_warehouse(duckdb), sync_config.load()
        return result(guard.mass_change_verdict(warehouse, platform, config, context.run.tags, context.run.run_id))

    return [_unique, _keys, _mass]


def _writer(platform: str, resources: object) -> tuple[TargetWriter, str]:
    resource = getattr(resources, platform)
    return contact_writer(platform, resource.get_client()), resource.base_url


def _check(outcome: WritesOutcome) -> dg.AssetCheckResult:
    severity = dg.AssetCheckSeverity(outcome.severity)
    return dg.AssetCheckResult(passed=outcome.passed, description=outcome.description, severity=severity)


def _writes_metadata(platform: str, report: ExecutionReport, outbox: Outbox, run_id: str) -> dict[str, Any]:
    sample = [
        (op, status, person, target, ", ".join(fields or []), error)
        for op, status, person, target, fields, error in outbox.run_log(run_id, platform)[:20]
    ]
    return {
        "sent": sum(report.counts.values()),
        "acknowledged": report.total("acknowledged"),
        "failed": report.total("failed"),
        "dead": report.total("dead"),
        "adopted": report.adopted,  # creates whose lost answer was found on the platform
        **{f"{op}_{status}": n for (op, status), n in sorted(report.counts.items())},
        **({"stopped": report.stopped} if report.stopped else {}),
        "log_sample": markdown_table(["op", "status", "who", f"{platform} id", "fields", "error"], sample),
        **table_metadata(outbox.warehouse, "sync_log"),
    }


def writes_asset(platform: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"{platform}_writes",
        group_name="load",
        kinds={"duckdb", platform},
        pool=f"{platform}_api",
        deps=[f"{platform}_changeset"],
        required_resource_keys={platform, "duckdb", "sync_config"},
        check_specs=[dg.AssetCheckSpec("writes_accepted", asset=f"{platform}_writes")],
        description=(
            f"Sends {platform}'s pending outbox rows through its client, oldest first: each acknowledged row "
            "advances the snapshot; failures are retried on later runs; a create whose answer was lost is looked "
            "up before it is retried. Nothing is sent in dry-run mode, or to a real platform without the opt-in, "
            f"or while {platform}'s safety checks fail."
        ),
    )
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        config, run_id = context.resources.sync_config.load(), context.run.run_id
        if not getattr(getattr(context.resources, platform), "configured", True):
            return dg.MaterializeResult(
                metadata={"sent": 0, "skipped": f"this location has no {platform} account"},
                check_results=[dg.AssetCheckResult(passed=True, description="no account: nothing to write")],
            )
        if config.dry_run:
            return dg.MaterializeResult(
                metadata={"sent": 0, "skipped": "dry run: planned and logged only"},
                check_results=[dg.AssetCheckResult(passed=True, description="dry run")],
            )
        outbox = Outbox(get_warehouse(context.resources.duckdb))
        verdict = guard.write_verdict(outbox.warehouse, platform, config, context.run.tags, run_id)
        if not verdict.passed:
            context.log.error(verdict.message)
            blocked = _check(blocked_outcome(verdict.message))
            return dg.MaterializeResult(metadata={"sent": 0, "blocked": verdict.message}, check_results=[blocked])
        writer, base_url = _writer(platform, context.resources)
        refusal = safety.real_write_refusal(platform, base_url, config.allow_real_writes)
        if refusal:
            raise dg.Failure(refusal, allow_retries=False)
        with writer.client:  # type: ignore[attr-defined]
            report = execute(outbox, writer, run_id, config.max_write_attempts, context.log.warning)
        return dg.MaterializeResult(
            metadata=_writes_metadata(platform, report, outbox, run_id), check_results=[_check(writes_outcome(report))]
        )

    return _asset


changeset_assets = [changeset_asset(platform) for platform in TARGET_FLOWS]
changeset_asset_checks = [check for platform in TARGET_FLOWS for check in changeset_checks(platform)]
write_assets = [writes_asset(platform) for platform in TARGET_FLOWS]
