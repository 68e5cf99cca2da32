"""Plan and load (group `load`): per target, the operations the golden records need (the outbox), the blocking
checks that guard them, and the write asset that sends them through the platform's client."""

import json
from collections.abc import Sequence

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from etl_project.defs.metadata import table_metadata
from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.resources import get_warehouse
from etl_project.load import guard, safety
from etl_project.load.executor import ExecutionReport, execute
from etl_project.load.writers import TargetWriter, contact_writer
from etl_project.sync.plan import CREATE_KEYS, Operation, canonical, plan_target
from etl_project.warehouse.outbox import Outbox

# target platform → the flow that feeds it
TARGET_FLOWS = {"sendapp": "highlevel_contacts_to_sendapp", "highlevel": "sendapp_contacts_to_highlevel"}


def _frame(operations: Sequence[Operation], expected: dict[str, dict[str, object]]) -> pd.DataFrame:
    rows = [
        (
            o.idempotency_key,
            o.platform,
            o.kind,
            o.person_id,
            o.target_id,
            json.dumps(o.fields, default=str),
            json.dumps(o.payload, default=str),
            json.dumps(expected[o.idempotency_key], default=str),
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
        "expected",
        "fields_changed",
    ]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> dg.MetadataValue:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return dg.MetadataValue.md("\n".join(lines))


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
        config = sync_config.load()
        target = config.targets.get(platform)  # type: ignore[call-overload]
        if target is None or not getattr(config.flows, TARGET_FLOWS[platform]):
            return dg.MaterializeResult(metadata={"operations": 0, "skipped": "flow off or no target configured"})
        outbox = Outbox(get_warehouse(duckdb))
        # Flow 3 finds or creates each buyer's HighLevel contact, even when HighLevel is otherwise update-only.
        buyers = (
            set(outbox.buyers(config.purchases.states))
            if platform == "highlevel" and config.flows.sendowl_purchases_to_highlevel
            else set()
        )
        golden, states = outbox.plan_candidates(
            platform,
            can_create=target.mode != "update_only" or bool(buyers),
            needs_phone="phone" in CREATE_KEYS.get(platform, ()),
        )
        operations = plan_target(platform, target, golden, states, buyers)
        expected = {}
        for o in operations:
            known, _ = states[o.person_id].known() if o.person_id in states else ({}, None)
            after = {**known, **{k: canonical(v) for k, v in o.fields.items()}}
            expected[o.idempotency_key] = {k: v for k, v in after.items() if v is not None}
        new, superseded = outbox.store_plan(platform, _frame(operations, expected), context.run.run_id, config.dry_run)
        by_kind = {kind: sum(1 for o in operations if o.kind == kind) for kind in ("create", "update", "delete")}
        sample = [(o.kind, o.person_id, o.target_id, ", ".join(o.fields)) for o in operations[:15]]
        return dg.MaterializeResult(
            metadata={
                "operations": len(operations),
                **by_kind,
                "candidates": len(golden),
                "blocked_creates": sum(1 for s in states.values() if s.key_taken),
                "new_in_outbox": new,
                "superseded": superseded,
                "dry_run": config.dry_run,
                "sample": _table(["op", "person", f"{platform} id", "fields"], sample),
                **table_metadata(outbox.warehouse, "outbox"),
            }
        )

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


WHOLESALE_REFUSAL = 3  # refused writes, none acknowledged, before the refusal is the platform's, not one record's


def writes_check(report: ExecutionReport | None, blocked: str | None) -> dg.AssetCheckResult:
    """A run whose writes were refused is not green: dead rows or a stop fail the check, with the reason."""
    if blocked:  # the changeset's own check is the ERROR (and the alert); this one only says nothing was sent
        return dg.AssetCheckResult(passed=False, description=blocked, severity=dg.AssetCheckSeverity.WARN)
    assert report is not None
    dead, failed = report.total("dead"), report.total("failed")
    acknowledged = report.total("acknowledged")
    if report.credentials_refused or (not acknowledged and (report.stopped or dead >= WHOLESALE_REFUSAL)):
        # Nothing got through (credentials refused, budget gone, several writes and every one refused): a person is
        # needed. One record the platform refuses (a 409 on a number another record holds) is a warning and shows
        # in the dead_writes check: paging for it again on every plan would be noise.
        why = report.stopped or f"every write was refused: {dead} dead (see sync_log for each reason)"
        return dg.AssetCheckResult(passed=False, description=why, severity=dg.AssetCheckSeverity.ERROR)
    if report.stopped:  # the daily budget ran out after some writes: the next day's runs carry on
        return dg.AssetCheckResult(passed=False, description=report.stopped, severity=dg.AssetCheckSeverity.WARN)
    if dead or failed:
        return dg.AssetCheckResult(
            passed=False,
            description=f"{dead} write(s) refused (dead; see sync_log) and {failed} failed transiently (the next "
            "run retries them)",
            severity=dg.AssetCheckSeverity.WARN,
        )
    return dg.AssetCheckResult(passed=True, description="every write sent was acknowledged")


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
        config = context.resources.sync_config.load()
        if config.dry_run:
            return dg.MaterializeResult(
                metadata={"sent": 0, "skipped": "dry run: planned and logged only"},
                check_results=[dg.AssetCheckResult(passed=True, description="dry run")],
            )
        warehouse = get_warehouse(context.resources.duckdb)
        verdict = guard.write_verdict(warehouse, platform, config, context.run.tags, context.run.run_id)
        if not verdict.passed:
            context.log.error(verdict.message)
            return dg.MaterializeResult(
                metadata={"sent": 0, "blocked": verdict.message}, check_results=[writes_check(None, verdict.message)]
            )
        writer, base_url = _writer(platform, context.resources)
        refusal = safety.real_write_refusal(platform, base_url, config.allow_real_writes)
        if refusal:
            raise dg.Failure(refusal, allow_retries=False)
        outbox = Outbox(warehouse)
        with writer.client:  # type: ignore[attr-defined]
            report = execute(outbox, writer, context.run.run_id, config.max_write_attempts, context.log.warning)
        log = outbox.run_log(context.run.run_id, platform)
        sample = [
            (op, status, person, target, ", ".join(fields or []), error)
            for op, status, person, target, fields, error in log[:20]
        ]
        by = {f"{op}_{status}": n for (op, status), n in sorted(report.counts.items())}
        return dg.MaterializeResult(
            metadata={
                "sent": sum(report.counts.values()),
                "acknowledged": report.total("acknowledged"),
                "failed": report.total("failed"),
                "dead": report.total("dead"),
                "adopted": report.adopted,  # creates whose lost answer was found on the platform
                **by,
                **({"stopped": report.stopped} if report.stopped else {}),
                "log_sample": _table(["op", "status", "who", f"{platform} id", "fields", "error"], sample),
                **table_metadata(warehouse, "sync_log"),
            },
            check_results=[writes_check(report, None)],
        )

    return _asset


changeset_assets = [changeset_asset(platform) for platform in TARGET_FLOWS]
changeset_asset_checks = [check for platform in TARGET_FLOWS for check in changeset_checks(platform)]
write_assets = [writes_asset(platform) for platform in TARGET_FLOWS]
