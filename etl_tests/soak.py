"""The acceptance soak (issue #13): what the Dagster daemon drives, hour after simulated hour.

A simulated clock (`time-machine`: the code, the sandbox's record times, the partitions' live window and the
schedules all read it) moves one hour per tick. First, onboarding as on a fresh install: the `onboarding_backfill`
sensor's one run over every partition, then the first sync allowed once (what a person does at install). Each tick:
people use the three platforms; the schedules' own evaluation functions are ticked and each run they request is
executed for real against the sandbox over loopback HTTP; `sync_after_extract` is evaluated and the sync run it
requests is executed; the alert sensors are evaluated and a person (the harness) reads the webhook: an alert
naming an approval id is approved once by launching a sync run with `etl/approve`, any other alert counts as "a
person was needed". A share of the ticks runs with faults injected between the clients and one platform (5xx or
429 answers, truncated or HTML 200s, resets before or after a write is applied, writes applied then answered 5xx,
429 storms). Mid-way: one UI-style single-run backfill of the extract assets, and flow 3 (SendOwl sales) switched
on. At the end: quiet ticks, duplicates, 429s, a report.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources as pkg
from pathlib import Path

import dagster as dg
import time_machine
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from etl_project.defs.partitions import BACKFILL_TAG
from etl_project.devtools.wiring import scale_down_limits
from etl_project.load.guard import ALLOW_MASS_CHANGE_TAG
from etl_project.sandbox.server import Sandbox, SandboxConfig
from etl_tests.soak_report import SoakReport, duplicate_groups, new_duplicates
from etl_tests.soak_runs import Runner
from etl_tests.soak_world import Users, Webhook, random_fault

FLOW_SWITCHED_ON = "sendowl_purchases_to_highlevel"  # flow 3, off until mid-way


@dataclass
class SoakOptions:
    days: int = 2
    hours: int = 0  # > 0: a soak this many hours long instead, from 15:00, through midnight and the nightly run
    seed: int = 1
    contacts: int = 20
    fault_share: float = 0.1  # share of ticks with faults injected on one platform
    backfill_days: int = 7  # partitions the mid-way UI backfill re-reads
    fast_limits: bool = True  # real rate limits, scaled down (and the clients' pacing with them); else real
    quiet_ticks: int = 3  # calm ticks at the end; the last one must send no writes
    keep: Path | None = None  # a folder to keep the warehouse and each run's record in, for a post-mortem


def _configs(tmp: Path) -> tuple[str, str]:
    """Every flow on except flow 3 (the starting config), and every flow on (switched to mid-way)."""
    shipped = pkg.files("etl_project.sync").joinpath("all_flows_sync.toml").read_text()
    # The guard's shares apply from 5 records, so a soak this small meets the guard when flow 3 is switched on.
    all_flows = shipped.replace("min_records_for_share = 10", "min_records_for_share = 5")
    before = all_flows.replace(f"{FLOW_SWITCHED_ON} = true", f"{FLOW_SWITCHED_ON} = false")
    assert before != all_flows != shipped
    (tmp / "soak_before.toml").write_text(before)
    (tmp / "soak_all.toml").write_text(all_flows)
    return str(tmp / "soak_before.toml"), str(tmp / "soak_all.toml")


def run_soak(options: SoakOptions, progress: Callable[[str], None] | None = None) -> SoakReport:
    say = progress or (lambda _line: None)
    rng = random.Random(options.seed)
    report = SoakReport(options.days, options.seed, options.contacts)
    began = time.monotonic()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if options.hours:
        ticks, start = options.hours, today + timedelta(hours=3 - options.hours)
        backfill_tick = ticks // 3
    else:
        ticks, start = options.days * 24, today - timedelta(days=options.days)
        backfill_tick = options.days // 2 * 24 + 12  # noon of the middle day (of the first, in a one-day soak)
    switch_tick = backfill_tick + 3
    with (
        time_machine.travel(start - timedelta(hours=2), tick=True) as clock,
        tempfile.TemporaryDirectory() as tmp,
        dg.DagsterInstance.ephemeral() as instance,
    ):
        sandbox_config = SandboxConfig(contacts=options.contacts, seed=options.seed, rate_limits="real")
        with Sandbox(sandbox_config) as sandbox:
            if options.fast_limits:
                scale_down_limits({name: sandbox.base_url(name) for name in sandbox.platforms})
            webhook = Webhook()
            users = Users(sandbox, random.Random(options.seed + 1))
            before_config, all_flows = _configs(Path(tmp))
            runner = Runner(sandbox, instance, str(Path(tmp) / "warehouse.duckdb"), webhook, report, options)
            runner.use_config(before_config)
            try:
                seeded = duplicate_groups(sandbox)
                report.seeded_duplicates = {k: len(v) for k, v in seeded.items()}
                # Onboarding (not part of the soak): the history backfilled once, the first sync allowed once.
                report.onboarding_runs = len(runner.onboard())  # the sensor's backfill of every partition
                runner.follow(kind="onboarding", extra_tags={ALLOW_MASS_CHANGE_TAG: "true"})
                faults = {
                    t: random_fault(rng, sandbox)
                    for t in range(ticks)
                    if t not in (backfill_tick, switch_tick, switch_tick + 1)
                    and t < ticks - 2
                    and rng.random() < options.fault_share
                }
                for t in [t for t in faults if t - 1 in faults]:
                    faults.pop(t, None)  # never two faulted ticks in a row: the next tick must recover
                for tick in range(ticks):
                    hour = start + timedelta(hours=tick)
                    clock.move_to(hour)
                    users.hour(busy=8 <= hour.hour < 20)
                    if tick == switch_tick:
                        say(f"{hour:%Y-%m-%d %H:%M}: flow 3 switched on")
                        runner.use_config(all_flows)
                    runner.tick(clock, hour, faults.get(tick))
                    if tick == backfill_tick:
                        clock.move_to(hour + timedelta(minutes=40))
                        first = hour - timedelta(days=options.backfill_days)
                        backfill_run = runner.backfill(first, hour - timedelta(days=1), "backfill", {})
                        report.backfill_followed = any(backfill_run in ran for ran in runner.follow(kind="sync"))
                    report.ticks += 1
                    if tick % 24 == 23 or tick == ticks - 1:
                        say(_progress_line(report, hour, began))
                end = start + timedelta(hours=ticks)
                for i in range(options.quiet_ticks):  # calm hours: the last changes settle, then nothing moves
                    clock.move_to(end + timedelta(hours=i))
                    runner.tick(clock, end + timedelta(hours=i), None, quiet=i == options.quiet_ticks - 1)
                last = [r for r in report.runs if r.kind == "quiet"]
                report.quiet_writes = {n: sum(r.writes.get(n, 0) for r in last) for n in sandbox.platforms}
                report.quiet_detail = runner.writes_of([r.run_id for r in last if r.job == "sync_job"])
                report.duplicates = new_duplicates(seeded, duplicate_groups(sandbox))
                report.outbox = runner.outbox_statuses()
                report.problems = runner.problems()
                report.held_alerts = runner.held_alerts()
                report.activity, report.refused_activity = dict(users.done), dict(users.refused)
                report.unrecovered = runner.unrecovered()
                if options.keep is not None:
                    _keep(options.keep, Path(tmp) / "warehouse.duckdb", report)
            finally:
                users.close()
                webhook.close()
    report.wall_seconds = time.monotonic() - began
    return report


def _keep(folder: Path, warehouse: Path, report: SoakReport) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(warehouse, folder / "warehouse.duckdb")
    (folder / "runs.json").write_text(json.dumps([asdict(r) for r in report.runs], indent=1))


def _progress_line(report: SoakReport, hour: datetime, began: float) -> str:
    runs = report.soak_runs
    failed = sum(1 for r in runs if not r.success)
    spent = time.monotonic() - began
    return (
        f"{hour:%Y-%m-%d %H:%M} ticks {report.ticks} runs {len(runs)} failed {failed} "
        f"approvals {len(report.approvals)} wall {spent:.0f}s ({spent / max(report.ticks, 1):.2f} s/tick)"
    )


def backfill_tags(first: datetime, last: datetime) -> dict[str, str]:
    return {
        BACKFILL_TAG: f"soak-{first:%Y%m%d}",
        ASSET_PARTITION_RANGE_START_TAG: first.date().isoformat(),
        ASSET_PARTITION_RANGE_END_TAG: last.date().isoformat(),
    }
