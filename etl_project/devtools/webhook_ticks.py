"""Tick the webhook sensor in this process, as the daemon would (the demo and the latency benchmark).

`SensorTicker.tick` evaluates `webhook_inbox_sensor`'s body (`drain`) against an inbox, with the cursor it kept
from the previous tick, and executes each run it requests with `webhook_sync_job` in process, recorded in the
given instance (so the next tick settles it: completes or releases its inbox claims). What the daemon adds is only
the cadence (every `WEBHOOK_SENSOR_INTERVAL_SECONDS`, 30 by default) and launching the run in its own process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.sync_run import SYNC_ASSETS
from etl_project.defs.webhook_run import WEBHOOK_ASSETS, webhook_sync_job
from etl_project.defs.webhook_sensor import drain


class SensorTicker:
    def __init__(
        self,
        instance: dg.DagsterInstance,
        inbox: Path,
        resources: dict[str, Any],
        sync_config: str,
        run_config: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        """`resources`: the platforms and the warehouse; `sync_config`: the sync config file; `run_config`: laid
        over each requested run's config (e.g. loggers); `tags`: added to each run's (e.g. the location of a
        receiver that serves one, `etl/location`), the request's own winning."""
        self.instance, self.inbox, self.extra = instance, inbox, run_config or {}
        self.tags = tags or {}
        self.cursor: str | None = None
        defs = dg.Definitions(
            assets=[*WEBHOOK_ASSETS, *SYNC_ASSETS],
            jobs=[webhook_sync_job],
            resources={**resources, "sync_config": SyncConfigResource(path=sync_config)},
        )
        self.job = defs.resolve_job_def(webhook_sync_job.name)
        self.runs: list[dg.ExecuteInProcessResult] = []
        self.skip_reason = ""

    def tick(self) -> list[dg.ExecuteInProcessResult]:
        """One sensor evaluation, then the runs it requested, each to its end; returns those runs."""
        result = drain(dg.build_sensor_context(instance=self.instance, cursor=self.cursor), self.inbox)
        launched = []
        if isinstance(result, dg.SkipReason):
            self.skip_reason = result.skip_message or ""
        else:
            self.cursor = result.cursor
            self.skip_reason = (result.skip_reason.skip_message or "") if result.skip_reason else ""
            for request in result.run_requests or []:
                assert isinstance(request, dg.RunRequest)
                run = self.job.execute_in_process(
                    run_config={**(request.run_config or {}), **self.extra},
                    instance=self.instance,
                    tags={**self.tags, **request.tags},
                    raise_on_error=False,
                )
                launched.append(run)
        self.runs += launched
        return launched


def refresh_reads(run: dg.ExecuteInProcessResult) -> int:
    """API read requests a targeted run's two refresh assets made (their `requests` metadata)."""
    total = 0
    for event in run.get_asset_materialization_events():
        key = event.asset_key.to_user_string() if event.asset_key else ""
        if key in {asset.key.to_user_string() for asset in WEBHOOK_ASSETS}:
            value = event.materialization.metadata.get("requests")
            total += int(str(value.value)) if value is not None else 0
    return total
