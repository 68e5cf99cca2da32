"""What the daemon does in the soak: tick the schedules and sensors through their own evaluation functions, execute
each run they request for real, raise the alerts, and play the person who reads them."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import dagster as dg
import duckdb
import time_machine
from dagster._core.storage.defs_state.base import set_defs_state_storage

from etl_project.definitions import defs
from etl_project.defs.alerts import AlertResource, alert_on_failed_checks, alert_on_run_failure
from etl_project.defs.onboarding import onboarding_backfill
from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.schedules import hourly_extract, nightly_reconciliation
from etl_project.defs.sync_trigger import AFTER_TAG, sync_after_extract
from etl_project.devtools.wiring import sandbox_resources
from etl_project.load.guard import APPROVE_TAG
from etl_project.sandbox.server import Sandbox
from etl_tests.soak_report import RunRecord, SoakReport, counters
from etl_tests.soak_world import APPROVAL, Fault, Webhook, set_fault
from etl_tests.test_extract_e2e import ASSETS as EXTRACT_ASSETS

if TYPE_CHECKING:
    from etl_tests.soak import SoakOptions

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
SCHEDULES = {hourly_extract: "hourly", nightly_reconciliation: "nightly"}


def due_minutes(schedule: dg.ScheduleDefinition, hour: datetime) -> list[int]:
    """Minutes of `hour` the schedule fires at (the project's crons are "M * * * *" or "M H * * *")."""
    cron = schedule.cron_schedule
    assert isinstance(cron, str)
    minute, hours, *rest = cron.split()
    assert rest == ["*", "*", "*"] and minute.isdigit(), cron
    return [int(minute)] if hours == "*" or int(hours) == hour.hour else []


def _root_error(event: dg.DagsterEvent) -> str:
    error = event.step_failure_data.error if event.step_failure_data else None
    found = ""
    while error is not None:
        if error.cls_name and not error.cls_name.startswith("Dagster"):
            found = f"{error.cls_name}: {error.message.strip()}"
        error = error.cause
    return f"{event.step_key}: {found or 'unknown'}"


class Runner:
    def __init__(
        self, sandbox: Sandbox, instance: dg.DagsterInstance, database: str, webhook: Webhook, report: SoakReport,
        options: SoakOptions,
    ) -> None:  # fmt: skip
        self.sandbox, self.instance, self.database = sandbox, instance, database
        self.webhook, self.report, self.options = webhook, report, options
        urls = {n: sandbox.api_url(n) for n in sandbox.platforms}
        self.resources: dict[str, Any] = sandbox_resources(urls, database, fast_limits=options.fast_limits)
        self.resources["alerts"] = AlertResource(webhook_url=webhook.url)
        self.sync_cursor: str | None = None
        self.checks_cursor: str | None = None
        self.onboarding_cursor: str | None = None
        self.fault: Fault | None = None
        self.defs = defs
        self._definitions: dict[str, dg.Definitions] = {}

    def use_config(self, path: str) -> None:
        """Point `sync_config` at another TOML (how a user switches a flow on), as a redeploy would."""
        self.resources["sync_config"] = SyncConfigResource(path=path)
        self.defs = self._definitions[path] = self._definitions.get(path) or self._build()

    def _build(self) -> dg.Definitions:
        built = dg.Definitions(
            assets=defs.assets,
            asset_checks=defs.asset_checks,
            jobs=defs.jobs,
            schedules=defs.schedules,
            sensors=defs.sensors,
            resources={**(defs.resources or {}), **self.resources},
            executor=defs.executor,
        )
        # Loaded here, under the soak's instance: Dagster reads its definitions state from the instance in scope.
        with set_defs_state_storage(self.instance.defs_state_storage):
            built.get_repository_def()
        return built

    # -- one tick ----------------------------------------------------------------------------------------------
    def tick(self, clock: time_machine.Coordinates, hour: datetime, fault: Fault | None, quiet: bool = False) -> None:
        """Every schedule due in this hour, in cron order, each followed by the sensors (as the daemon's 30 s
        sensor interval does after a run finishes). `fault` is on for this tick's runs only."""
        due = sorted(((m, s) for s in SCHEDULES for m in due_minutes(s, hour)), key=lambda pair: pair[0])
        self.fault = fault
        if fault is not None:
            set_fault(self.sandbox, fault)
        try:
            for minute, schedule in due:
                at = hour + timedelta(minutes=minute)
                clock.move_to(at)
                context = dg.build_schedule_context(
                    instance=self.instance, scheduled_execution_time=at, repository_def=self.defs.get_repository_def()
                )
                data = schedule.evaluate_tick(context)
                for request in data.run_requests or []:
                    tags = {**request.tags, "dagster/schedule_name": schedule.name}
                    kind = "quiet" if quiet else SCHEDULES[schedule]
                    self.launch(kind, "extract_job", tags, request.partition_key)
                self.follow(kind="quiet" if quiet else "sync")
        finally:
            if fault is not None:
                set_fault(self.sandbox, None, fault.platform)
            self.fault = None

    def backfill(self, first: datetime, last: datetime, kind: str, tags: dict[str, str]) -> str:
        """A backfill launched from the asset graph: one run of Dagster's asset job over a range of partitions."""
        from etl_tests.soak import backfill_tags

        keys = [key for a in EXTRACT_ASSETS for key in a.keys]
        job = self.defs.resolve_implicit_job_def_def_for_assets(keys)
        assert job is not None

        def execute() -> dg.ExecuteInProcessResult:
            return job.execute_in_process(
                instance=self.instance,
                asset_selection=keys,
                tags={**backfill_tags(first, last), **tags},
                run_config=QUIET,
                raise_on_error=False,
            )

        return self._record(kind, execute)

    def onboard(self) -> list[str]:
        """Tick `onboarding_backfill` as the daemon does on a fresh install and execute the run it requests (one
        single-run backfill of every partition); ticked again, it must request nothing."""
        launched = []
        for _ in range(2):
            cursor = self.onboarding_cursor
            context = dg.build_sensor_context(instance=self.instance, cursor=cursor, definitions=self.defs)
            result = onboarding_backfill(context)
            if not isinstance(result, dg.SensorResult):
                continue
            self.onboarding_cursor = result.cursor or self.onboarding_cursor
            for request in result.run_requests or []:
                assert isinstance(request, dg.RunRequest)
                tags = {**request.tags, "dagster/sensor_name": "onboarding_backfill"}
                tags["dagster/run_key"] = request.run_key or ""
                launched.append(self.launch("onboarding", "extract_job", tags))
        return launched

    def follow(self, kind: str, extra_tags: dict[str, str] | None = None) -> list[str]:
        """Tick `sync_after_extract` and execute the sync it requests; the extraction runs each sync follows."""
        context = dg.build_sensor_context(instance=self.instance, cursor=self.sync_cursor, definitions=self.defs)
        result = sync_after_extract(context)
        followed = []
        if isinstance(result, dg.SensorResult):
            self.sync_cursor = result.cursor or self.sync_cursor
            for request in result.run_requests or []:
                assert isinstance(request, dg.RunRequest)
                tags = {**request.tags, "dagster/sensor_name": "sync_after_extract", **(extra_tags or {})}
                tags["dagster/run_key"] = request.run_key or ""
                followed.append(request.tags.get(AFTER_TAG, ""))
                self.launch(kind, "sync_job", tags)
        return followed

    # -- runs ----------------------------------------------------------------------------------------------------
    def launch(self, kind: str, job_name: str, tags: dict[str, str], partition_key: str | None = None) -> str:
        job = self.defs.resolve_job_def(job_name)

        def execute() -> dg.ExecuteInProcessResult:
            return job.execute_in_process(
                instance=self.instance, partition_key=partition_key, tags=tags, run_config=QUIET, raise_on_error=False
            )

        return self._record(kind, execute)

    def _record(self, kind: str, execute: Any) -> str:
        before, started = counters(self.sandbox), time.monotonic()
        at = datetime.now(UTC).strftime("%m-%d %H:%M")
        with set_defs_state_storage(self.instance.defs_state_storage):
            result: dg.ExecuteInProcessResult = execute()
        after = counters(self.sandbox)
        failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        record = RunRecord(
            at=at,
            kind=kind,
            job=result.dagster_run.job_name,
            run_id=result.run_id,
            success=result.success,
            seconds=time.monotonic() - started,
            fault=self.fault.label() if self.fault else None,
            error="; ".join(_root_error(e) for e in failures) or None,
            writes={n: after[n][0] - before[n][0] for n in after},
            rate_limited={n: after[n][1] - before[n][1] for n in after if after[n][1] > before[n][1]},
            failing_checks=[
                f"{e.asset_key.to_user_string()}.{e.check_name}"
                for e in result.get_asset_check_evaluations()
                if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
            ],
        )
        self.report.runs.append(record)
        self._alerts(result)
        return result.run_id

    def _alerts(self, result: dg.ExecuteInProcessResult) -> None:
        """The alert sensors after a run, then the person reads the webhook."""
        resources = {"alerts": self.resources["alerts"], "duckdb": self.resources["duckdb"]}
        if not result.success:
            failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
            alert_on_run_failure(
                dg.build_run_status_sensor_context(
                    sensor_name="alert_on_run_failure",
                    dagster_event=failure,
                    dagster_instance=self.instance,
                    dagster_run=result.dagster_run,
                    resources=resources,
                ).for_run_failure()
            )
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.checks_cursor, definitions=self.defs, resources=resources
        )
        alert_on_failed_checks(context)
        self.checks_cursor = context.cursor
        self._person()

    def _person(self) -> None:
        """Reads each new alert: one naming an approval is approved once (a sync run launched with the tag);
        anything else means a person was needed."""
        for text in self.webhook.unread():
            found = APPROVAL.search(text)
            if found is None or found.group(1) in self.report.approvals:
                self.report.person_needed.append(text)
                continue
            self.report.approvals.append(found.group(1))
            self.launch("approval", "sync_job", {APPROVE_TAG: found.group(1)})

    # -- afterwards ---------------------------------------------------------------------------------------------
    def _query(self, sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(self.database, read_only=True) as con:
            try:
                return con.execute(sql).fetchall()
            except duckdb.CatalogException:
                return []

    def outbox_statuses(self) -> dict[str, int]:
        return {str(s): int(n) for s, n in self._query("SELECT status, count(*) FROM activity_outbox GROUP BY 1")}

    def problems(self) -> list[str]:
        """Writes that did not go through, activities not done, and records quarantined, with their reasons."""
        rows = self._query(
            "SELECT 'write', platform, operation, status, attempts, last_error, CAST(payload AS VARCHAR) FROM outbox "
            "WHERE status NOT IN ('acknowledged', 'superseded') UNION ALL "
            "SELECT 'activity', platform, operation, status, attempts, last_error, CAST(payload AS VARCHAR) "
            "FROM activity_outbox WHERE status <> 'acknowledged' UNION ALL "
            "SELECT 'quarantined', platform, kind, record_id, 0, reason, '' FROM quarantine WHERE resolved_at IS NULL"
        )
        return [
            f"{what} {platform} {op} {status} x{n}: {(error or '')[:160]} {payload[:140]}".strip()
            for what, platform, op, status, n, error, payload in rows
        ]

    def writes_of(self, run_ids: list[str]) -> list[str]:
        """The sync log of these runs (what they planned and sent), with each write's payload."""
        if not run_ids:
            return []
        ids = ", ".join(f"'{r}'" for r in run_ids)
        rows = self._query(
            "SELECT l.platform, l.operation, l.status, l.target_id, CAST(l.fields_changed AS VARCHAR), "
            "coalesce(CAST(o.payload AS VARCHAR), CAST(a.payload AS VARCHAR), '') FROM sync_log l "
            "LEFT JOIN outbox o USING (idempotency_key) LEFT JOIN activity_outbox a USING (idempotency_key) "
            f"WHERE l.run_id IN ({ids}) ORDER BY l.logged_at"
        )
        return [f"{p} {op} {st} {t} {f} {payload[:200]}" for p, op, st, t, f, payload in rows]

    def held_alerts(self) -> int:
        rows = self._query("SELECT count(*) FROM alerts WHERE severity = 'held'")
        return int(rows[0][0]) if rows else 0

    def unrecovered(self) -> list[str]:
        """Faulted runs that failed and whose next run of the same family (extraction or sync) failed too."""

        def family(run: RunRecord) -> str:
            return "sync" if run.job == "sync_job" else "extract"

        runs = [r for r in self.report.runs if r.kind != "onboarding"]
        out = []
        for i, run in enumerate(runs):
            if run.success or run.fault is None:
                continue
            after = [r for r in runs[i + 1 :] if family(r) == family(run)]
            if not after or not after[0].success:
                error = re.sub(r"\s+", " ", run.error or "")[:160]
                out.append(f"{run.at} {run.kind} ({run.fault}): {error}")
        return out
