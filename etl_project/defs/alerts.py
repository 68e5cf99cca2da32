"""Alerts (sensors): a failed run, or a failed ERROR check (a blocked guard, refused writes), reaches a person
through a Slack-compatible webhook, once per cause, and is recorded in the warehouse's `alerts` table."""

from __future__ import annotations

import hashlib
import json
import re
from typing import cast

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster_duckdb import DuckDBResource
from pydantic import Field

from etl_project import settings
from etl_project.alerting.policy import decide
from etl_project.alerting.sink import Alert, raise_alert
from etl_project.defs.location_scope import LOCATION_TAG, bind_to_run
from etl_project.defs.onboarding import ONBOARDING_KEY
from etl_project.defs.resources import get_warehouse

DONE = (AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED)


class AlertResource(dg.ConfigurableResource):
    """Where alerts go: a Slack-compatible incoming webhook (bind the URL with dg.EnvVar: it is a secret)."""

    webhook_url: str | None = Field(default=None, description="Incoming webhook URL; unset: alerts are only recorded.")
    ui_url: str = Field(default="http://127.0.0.1:3000", description="The Dagster UI, for links in alerts.")


def _root_errors(context: dg.RunFailureSensorContext) -> list[str]:
    """The innermost error class of each failed step (what actually went wrong, under Dagster's wrappers)."""
    names = []
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error
        name = None
        while error is not None:
            if error.cls_name and not error.cls_name.startswith("Dagster"):
                name = error.cls_name
            error = error.cause
        names.append(name or "unknown")
    return names


def _previous_failed(context: dg.RunFailureSensorContext) -> bool:
    run = context.dagster_run
    earlier = context.instance.get_runs(
        dg.RunsFilter(
            job_name=run.job_name,
            tags={LOCATION_TAG: run.tags[LOCATION_TAG]} if LOCATION_TAG in run.tags else None,  # per location
            statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE],
            created_before=context.instance.get_run_record_by_id(run.run_id).create_timestamp,  # type: ignore[union-attr]
        ),
        limit=1,
    )
    return bool(earlier) and earlier[0].status == dg.DagsterRunStatus.FAILURE


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts a failed run to the alert webhook when a person is needed (a transient fault is held "
    "until the job fails twice in a row) and records it in the warehouse.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, alerts: AlertResource, duckdb: DuckDBResource) -> None:
    run = context.dagster_run
    # The onboarding backfill is launched once, ever: no later tick retries it, so its failure needs a person.
    retried = not run.tags.get("dagster/run_key", "").startswith(ONBOARDING_KEY)
    decision = decide(_root_errors(context), _previous_failed(context) or not retried)
    reason = (context.failure_event.message or "the run failed").splitlines()[0][:300]
    link = f"{alerts.ui_url}/runs/{run.run_id}"
    where = f" for location {run.tags[LOCATION_TAG]}" if LOCATION_TAG in run.tags else ""
    text = f"Sync alert: {run.job_name} run {run.run_id[:8]}{where} failed: {reason} ({decision.why}). {link}"
    alert = Alert("run_failure", run.job_name, text, "alert" if decision.alert else "held", run.run_id)
    error = raise_alert(get_warehouse(bind_to_run(duckdb, run.tags)), alerts.webhook_url, alert)
    context.log.info(f"{alert.severity}: {decision.why}" + (f"; not delivered: {error}" if error else ""))


def _digest(description: str) -> str:
    """What makes two failures of one check the same cause: the approval id a guard names, else the text with
    its counts removed (an hourly "updates 15 of 29" and "16 of 30" are one cause, alerted once)."""
    approval = re.search(r"etl/approve = (\S+)", description)
    text = approval.group(1) if approval else re.sub(r"\d+", "#", description)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dg.sensor(
    minimum_interval_seconds=settings.sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts each newly failing ERROR check (a blocked target, refused writes, dead rows) once per cause.",
)
def alert_on_failed_checks(
    context: dg.SensorEvaluationContext, alerts: AlertResource, duckdb: DuckDBResource
) -> dg.SkipReason:
    # The latest evaluation of each check (sync runs are far apart; a tick every 30 s sees each of them).
    state = json.loads(context.cursor) if context.cursor else {}
    seen: dict[str, int] = state.get("seen", {})  # check → id of the evaluation already looked at
    failing: dict[str, str] = state.get("failing", {})  # check → digest of the cause already alerted
    assert context.repository_def is not None
    keys = list(context.repository_def.asset_graph.asset_check_keys)
    latest = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    sent = 0
    for key, execution in latest.items():
        name = f"{key.asset_key.to_user_string()}.{key.name}"
        event = execution.event.dagster_event if execution.event else None
        if execution.status not in DONE or event is None or seen.get(name) == execution.id:
            continue  # planned or running checks have no verdict yet
        seen[name] = execution.id
        evaluation = cast(dg.AssetCheckEvaluation, event.event_specific_data)
        if evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            failing.pop(name, None)
            continue
        description = evaluation.description or "failed"
        digest = _digest(description)
        if failing.get(name) == digest:
            continue  # already told, nothing changed since
        failing[name] = digest
        text = f"Sync alert: check {name} failed: {description} {alerts.ui_url}/runs/{execution.run_id}"
        alert = Alert("check_failure", name, text, run_id=execution.run_id)
        run = context.instance.get_run_by_id(execution.run_id)
        raise_alert(get_warehouse(bind_to_run(duckdb, run.tags if run else {})), alerts.webhook_url, alert)
        sent += 1
    context.update_cursor(json.dumps({"seen": seen, "failing": failing}))
    return dg.SkipReason(f"{sent} alert(s) raised" if sent else "no new failing checks")
