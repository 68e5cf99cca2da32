"""Once, briefly, the real `dagster-daemon`: an extraction materialized from the CLI is followed by a sync run the
daemon's sensor requests and its run coordinator launches, and the alert sensor books what the checks found."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib import resources as pkg
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from etl_project.devtools.wiring import sandbox_env
from etl_project.sandbox.server import Sandbox, SandboxConfig
from etl_tests.processes import stop

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture
def small_sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(contacts=8, seed=3, rate_limits="off")) as sb:
        yield sb


def _wait_for(condition, what: str, deadline_s: float = 600):  # type: ignore[no-untyped-def]
    """Poll a condition on a busy machine: generous deadline, short naps, never a fixed wait."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.timeout(900)
def test_the_daemon_follows_a_cli_extraction_with_a_sync(small_sandbox: Sandbox, tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "etl_project" / "dagster.yaml").read_text())
    db = tmp_path / "warehouse.duckdb"
    urls = {name: small_sandbox.base_url(name) for name in ("highlevel", "sendowl")}
    urls["sendapp"] = small_sandbox.api_url("sendapp")
    # A freshness limit no extraction can meet, so the check fails and the alert sensor has something to book.
    config = tmp_path / "sync.toml"
    shipped = pkg.files("etl_project.sync").joinpath("default_sync.toml").read_text()
    config.write_text(
        shipped.replace("min_records_for_share = 20", "min_records_for_share = 20\nmax_extract_age_hours = 0.0001")
    )
    env = {
        **os.environ,
        **sandbox_env(urls),
        "DAGSTER_HOME": str(home),
        "ETL_DUCKDB_PATH": str(db),
        "ETL_SYNC_CONFIG": str(config),
        "ETL_SENSOR_INTERVAL_SECONDS": "5",  # the alert sensor's next tick after the sync, in seconds, not 30
    }
    env.pop("ETL_ALERT_WEBHOOK_URL", None)
    # The extraction comes first (so the onboarding sensor sees an installed project and stays quiet), then the
    # daemon, which must notice it and follow it with a sync.
    cli = subprocess.run(
        [str(BIN / "dagster"), "asset", "materialize", "-m", "etl_project.definitions", "--select", "sendowl_products"],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0, cli.stderr[-2000:]
    log = (tmp_path / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:

            def sync_done() -> dg.DagsterRun | None:
                runs = instance.get_runs(dg.RunsFilter(job_name="sync_job"))
                finished = [r for r in runs if r.is_finished]
                return finished[0] if finished else None

            run = _wait_for(sync_done, "the daemon to launch and finish a sync run")
            assert run.status == dg.DagsterRunStatus.SUCCESS
            assert run.tags.get("etl/after-runs", "").startswith("1: ")

        def alert_booked() -> list[tuple[str, str]]:
            try:
                with duckdb.connect(str(db), read_only=True) as con:
                    return con.execute("SELECT kind, subject FROM alerts").fetchall()
            except duckdb.Error:
                return []  # the file is busy or the table not there yet

        booked = _wait_for(alert_booked, "the check alert sensor to book the failing freshness check")
        assert ("check_failure", "contact_identities.extract_freshness") in booked
    finally:
        stop(daemon, grace_s=120)
        log.close()
