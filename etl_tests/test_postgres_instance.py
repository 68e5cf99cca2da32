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
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations, pairwise
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
from dagster._grpc.client import DagsterGrpcClient
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from etl_project import settings
from etl_project.defs.sendowl_assets import sendowl_products
from etl_project.sandbox.server import Sandbox
from etl_project.tenants.registry import Registry, open_registry
from etl_project.tenants.resolve import Tenancy
from etl_tests import pg_location
from etl_tests.conftest import resources_for
from etl_tests.pg_server import PostgresDsn, PostgresServer, find_bin_dir, free_port
from etl_tests.processes import stop
from etl_tests.test_tenants import check_pauses_once_and_resumes, check_uninstalled_and_reinstalled

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
LOCATION_NAME = "pg_probe"
EVENTS_BY_TYPE = "SELECT dagster_event_type, count(*) FROM event_logs WHERE run_id = %s GROUP BY 1"
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
        limit = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())["concurrency"]["pools"]["default_limit"]
        assert pool.slot_count == limit and not pool.claimed_slots

    tag = pg_location.LOCATION_TAG
    assert sql(postgres, db, "SELECT status FROM runs WHERE run_id = %s", result.run_id) == [("SUCCESS",)]
    assert sql(postgres, db, "SELECT value FROM run_tags WHERE run_id = %s AND key = %s", result.run_id, tag) == [
        ("loc-1",)
    ]
    events = dict(sql(postgres, db, EVENTS_BY_TYPE, result.run_id))
    kinds = dg.DagsterEventType
    assert events[kinds.RUN_SUCCESS.value] == 1  # stored under its legacy name, PIPELINE_SUCCESS
    assert events[kinds.ASSET_MATERIALIZATION.value] == 1 and events[kinds.STEP_SUCCESS.value] == 1


def seed_schedule_switched_on(instance: dg.DagsterInstance, port: int, ago_s: float) -> InstigatorState:
    """`probe_schedule` as if switched on `ago_s` seconds ago while no daemon ran (a restart, a move to another
    machine): the daemon finds the missed cron tick in PostgreSQL and runs it at once, not at the next cron time."""
    origin = RemoteInstigatorOrigin(
        RemoteRepositoryOrigin(
            GrpcServerCodeLocationOrigin(host="127.0.0.1", port=port, location_name=LOCATION_NAME), "__repository__"
        ),
        pg_location.probe_schedule.name,
    )
    state = InstigatorState(
        origin,
        InstigatorType.SCHEDULE,
        InstigatorStatus.RUNNING,
        ScheduleInstigatorData(pg_location.SCHEDULE_CRON, start_timestamp=time.time() - ago_s),
    )
    instance.add_instigator_state(state)
    return state


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=ROOT, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT)


def code_server_ready(port: int) -> bool:
    try:
        return DagsterGrpcClient(port=port, host="127.0.0.1").ping("ready")["echo"] == "ready"
    except Exception:  # not listening yet
        return False


def intervals(records: list[dg.RunRecord]) -> list[tuple[float, float]]:
    spans = []
    for record in records:
        assert record.start_time is not None and record.end_time is not None, record.dagster_run.run_id
        spans.append((record.start_time, record.end_time))
    return sorted(spans)


@pytest.mark.timeout(900)
def test_the_daemon_runs_sensor_and_schedule_ticks_and_one_run_per_location_at_a_time(
    home: Path, tmp_path: Path
) -> None:
    """A real `dagster-daemon` against a real `dagster api grpc` code server, both on the PostgreSQL instance: the
    sensor queues two runs for location A and one for B at once; the queue starts them one per location at a
    time while A and B run side by side; the missed schedule tick is run; everything is read back from PostgreSQL."""
    port = free_port()
    workspace = tmp_path / "workspace.yaml"
    grpc = {"host": "127.0.0.1", "port": port, "location_name": LOCATION_NAME}
    workspace.write_text(yaml.safe_dump({"load_from": [{"grpc_server": grpc}]}))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        schedule_state = seed_schedule_switched_on(instance, port, ago_s=2 * 86400)
        server = spawn(
            [str(BIN / "dagster"), "api", "grpc", "-m", "etl_tests.pg_location", "-d", str(ROOT),
             "-h", "127.0.0.1", "-p", str(port), "--location-name", LOCATION_NAME],
            tmp_path / "code_server.log",
        )  # fmt: skip
        daemon: subprocess.Popen[bytes] | None = None
        try:
            wait_for(lambda: code_server_ready(port), "the code server to answer", deadline_s=120)
            daemon = spawn([str(BIN / "dagster-daemon"), "run", "-w", str(workspace)], tmp_path / "daemon.log")
            located = dg.RunsFilter(tags={pg_location.LOCATION_TAG: list(pg_location.SENSOR_RUNS)})
            expected = sum(pg_location.SENSOR_RUNS.values())

            def sensor_runs_done() -> list[dg.RunRecord] | None:
                records = instance.get_run_records(located)
                done = len(records) == expected and all(r.dagster_run.is_finished for r in records)
                return records if done else None

            def schedule_tick_done() -> Any:
                ticks = instance.get_ticks(schedule_state.instigator_origin_id, schedule_state.selector_id)
                ticks = [t for t in ticks if t.status == TickStatus.SUCCESS and t.run_ids]
                runs = [instance.get_run_by_id(t.run_ids[0]) for t in ticks]
                return runs if runs and all(r is not None and r.is_finished for r in runs) else None

            records = wait_for(sensor_runs_done, "the sensor's runs to finish")
            scheduled = wait_for(schedule_tick_done, "the missed schedule tick to run")
        finally:
            if daemon is not None:
                stop(daemon, grace_s=60)
            # A stopped code server waits up to 60 s for its open calls to end; nothing here checks how it stops.
            stop(server, grace_s=5)

        # Every sensor run succeeded, launched by one recorded sensor tick.
        assert {r.dagster_run.status for r in records} == {dg.DagsterRunStatus.SUCCESS}
        assert {r.dagster_run.tags["dagster/sensor_name"] for r in records} == {"locations_sensor"}
        sensor_state = next(
            s for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
            if s.instigator_name == "locations_sensor"
        )  # fmt: skip
        sensor_ticks = instance.get_ticks(sensor_state.instigator_origin_id, sensor_state.selector_id)
        launched = [t for t in sensor_ticks if t.status == TickStatus.SUCCESS]
        assert len(launched) == 1 and set(launched[0].run_ids) == {r.dagster_run.run_id for r in records}

        # The schedule's tick ran its run, tagged as the schedule's.
        run = scheduled[0]
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags[pg_location.LOCATION_TAG] == pg_location.SCHEDULE_LOCATION
        assert run.tags["dagster/schedule_name"] == pg_location.probe_schedule.name

        # One run per location at a time: each location's runs follow one another, never overlapping...
        by_location = {
            loc: intervals([r for r in records if r.dagster_run.tags[pg_location.LOCATION_TAG] == loc])
            for loc in pg_location.SENSOR_RUNS
        }
        for loc, spans in by_location.items():
            for (_, previous_end), (next_start, _) in pairwise(spans):
                assert next_start >= previous_end, f"two runs of location {loc} overlapped: {spans}"
        # ...while the two locations ran side by side.
        overlaps = [
            (a, b)
            for a, b in combinations([(loc, s) for loc, spans in by_location.items() for s in spans], 2)
            if a[0] != b[0] and a[1][0] < b[1][1] and b[1][0] < a[1][1]
        ]
        assert overlaps, f"locations A and B never ran at the same time: {by_location}"


def test_the_location_registry_in_postgres_is_one_for_every_machine(
    postgres: PostgresDsn, pg_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ETL_REGISTRY=postgres`: the registry lives in the instance's database (schema `etl_registry`), not in a
    SQLite file on the shared volume; its rules are the same, and writers on many machines take turns."""
    monkeypatch.setenv("ETL_REGISTRY", "postgres")
    # Processes starting together on a fresh database create the schema once, without tripping over each other.
    with ThreadPoolExecutor(6) as pool:
        registries = list(pool.map(lambda _: open_registry(tmp_path), range(6)))
    registry = registries[0]
    assert registry.path is None and not (tmp_path / "registry.sqlite").exists()
    assert pg_env["DAGSTER_PG_PASSWORD"] not in registry.where
    check_pauses_once_and_resumes(registry)
    check_uninstalled_and_reinstalled(Registry(postgres=settings.postgres_params()))

    # Many run processes find the same location's credentials refused at once: it is paused, and told, once.
    registry.add("loc-c", "Cedar", "file")
    with ThreadPoolExecutor(6) as pool:
        told = list(pool.map(lambda r: r.pause("loc-c", "HighLevel refused the credentials"), registries))
    assert told.count(True) == 1
    assert [e[2] for e in registry.events("loc-c")] == ["added", "paused"]

    # A deployment's tenancy reads it: the listed locations are registered there, the paused one is skipped.
    monkeypatch.setenv("T_PIT", "pit-token")
    locations = tmp_path / "locations.toml"
    listed = "".join(f'[[locations]]\nid = "{loc}"\nhighlevel_token_env = "T_PIT"\n' for loc in ("loc-c", "loc-d"))
    locations.write_text(f'data_dir = "{tmp_path / "data"}"\n' + listed)
    assert Tenancy(locations).active_ids() == ["loc-d"]  # loc-a was left paused by the checks above
    assert not (tmp_path / "data" / "registry.sqlite").exists()
    rows = sql(postgres, pg_env["DAGSTER_PG_DB"], "SELECT id, status FROM etl_registry.locations ORDER BY id")
    assert rows == [("loc-a", "paused"), ("loc-c", "paused"), ("loc-d", "active")]
