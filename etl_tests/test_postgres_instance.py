"""Dagster's instance on a real PostgreSQL server, configured as `deploy/dagster.yaml` configures it.

The server is the machine's own (a fresh cluster per test session, see `pg_server.py`). The instance file is
deploy/dagster.yaml with the parts that need Docker swapped for local ones: runs start as local processes instead of
containers, and the artifact folders point into the test's temporary folder. Storage, the run queue, the concurrency
limits and pools are the deployment's own. What is checked is read back from PostgreSQL itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from itertools import combinations
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg
import pytest
import yaml
from dagster._core.remote_origin import (
    GrpcServerCodeLocationOrigin,
    RemoteInstigatorOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    ScheduleInstigatorData,
    TickStatus,
)
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from etl_project.defs.sendowl_assets import sendowl_products
from etl_project.sandbox.server import Sandbox
from etl_tests import pg_location
from etl_tests.conftest import resources_for
from etl_tests.pg_server import PostgresDsn, PostgresServer, find_bin_dir, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
LOCATION_NAME = "pg_probe"
T = TypeVar("T")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDsn]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "no PostgreSQL server binaries: initdb and pg_ctl are neither on PATH nor in /usr/lib/postgresql/*/bin "
            "(.ci/run installs Debian's `postgresql` package; `apt-get install postgresql` does it by hand)"
        )
    with PostgresServer(bin_dir) as dsn:
        yield dsn


def instance_config(artifacts: Path) -> dict[str, Any]:
    """deploy/dagster.yaml as a test machine can run it: no Docker engine, so runs are local processes."""
    config = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    del config["run_launcher"]  # the default launcher: a process per run, started by the code server
    config["local_artifact_storage"]["config"]["base_dir"] = str(artifacts)
    config["compute_logs"]["config"]["base_dir"] = str(artifacts / "compute_logs")
    config["run_coordinator"]["config"]["dequeue_interval_seconds"] = 1  # a test's queue need not wait 5 s
    return config


@pytest.fixture
def pg_env(postgres: PostgresDsn, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A database of its own for each test, and the environment that points deploy/dagster.yaml at it."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    con = postgres.connect("postgres")
    try:
        con.autocommit = True
        con.cursor().execute(f'CREATE DATABASE "{name}"')
    finally:
        con.close()
    env = {**postgres.env(), "DAGSTER_PG_DB": name}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def home(pg_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance_config(tmp_path / "artifacts")))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def sql(postgres: PostgresDsn, db_name: str, query: str, *params: object) -> list[tuple[Any, ...]]:
    with postgres.connect(db_name) as con, con.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def wait_for(condition: Callable[[], T | None], what: str, deadline_s: float = 240) -> T:
    """Poll a condition on a busy machine: generous deadline, short naps, never a fixed wait."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_run_its_events_and_tags_are_stored_in_postgres(
    home: Path, pg_env: dict[str, str], postgres: PostgresDsn, sandbox: Sandbox, tmp_path: Path
) -> None:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        result = dg.materialize(
            [sendowl_products],
            resources=resources_for(sandbox, tmp_path / "w.duckdb"),
            instance=instance,
            tags={pg_location.LOCATION_TAG: "loc-1"},
        )
        assert result.success

    # A second instance, as another machine opens it: everything comes back from the server.
    db = pg_env["DAGSTER_PG_DB"]
    with dg.DagsterInstance.from_config(str(home)) as other:
        run = other.get_run_by_id(result.run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags[pg_location.LOCATION_TAG] == "loc-1"
        records = other.fetch_materializations(dg.AssetKey("sendowl_products"), limit=5).records
        assert [r.run_id for r in records] == [result.run_id]
        materialization = records[0].asset_materialization
        assert materialization is not None
        landed = materialization.metadata["records"].value
        assert isinstance(landed, int) and landed > 0
        assert materialization.metadata["dagster/row_count"].value == landed
        # The asset sits in the `sendowl_api` pool: its slot was claimed from, and given back to, PostgreSQL.
        pool = other.event_log_storage.get_concurrency_info("sendowl_api")
        assert pool.slot_count == 1 and not pool.claimed_slots

    assert sql(postgres, db, "SELECT status FROM runs WHERE run_id = %s", result.run_id) == [("SUCCESS",)]
    assert sql(postgres, db, "SELECT value FROM run_tags WHERE run_id = %s AND key = %s", result.run_id,
               pg_location.LOCATION_TAG) == [("loc-1",)]  # fmt: skip
    events = dict(
        sql(postgres, db, "SELECT dagster_event_type, count(*) FROM event_logs WHERE run_id = %s GROUP BY 1",
            result.run_id)  # fmt: skip
    )
    kinds = dg.DagsterEventType
    assert events[kinds.RUN_SUCCESS.value] == 1  # stored under its legacy name, PIPELINE_SUCCESS
    assert events[kinds.ASSET_MATERIALIZATION.value] == 1 and events[kinds.STEP_SUCCESS.value] == 1
