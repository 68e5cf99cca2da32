"""Shared fixtures: a sandbox served over real loopback HTTP, clients and resources pointed at it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from dagster_duckdb import DuckDBResource

from etl_project.definitions import EXTRACT_ASSETS
from etl_project.defs.resources import HighLevelResource, SendAppResource, SendOwlResource
from etl_project.platforms.highlevel import BearerTokenAuth, HighLevelClient
from etl_project.platforms.http import RetryPolicy
from etl_project.sandbox.server import Sandbox, SandboxConfig
from etl_tests.starting_states import RecordedRun, Saved, made_once, start_from

TOKEN = "pit-sandbox-token"
LOCATION = "loc-sandbox-0001"
SENDAPP_KEY = "sandbox-sendapp-key"
SENDOWL_KEY, SENDOWL_SECRET = "sandbox-sendowl-key", "sandbox-sendowl-secret"
SENDAPP_CHANNEL = "sandbox-channel-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Version": "2021-07-28"}
SANDBOX = SandboxConfig(contacts=60, seed=7, rate_limits="off")  # what the `sandbox` fixture serves
HISTORY_DAYS = 91  # the seed's records were added within the last 90 days: a backfill this long reads them all


def today() -> date:
    return datetime.now(UTC).date()


def backfill_tags(first: date, last: date) -> dict[str, str]:
    """A single-run backfill of the daily partitions first..last, as the UI launches one."""
    return {ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()}


def history_tags() -> dict[str, str]:
    return backfill_tags(today() - timedelta(days=HISTORY_DAYS), today())


def resources_for(sandbox: Sandbox, database: Path) -> dict[str, Any]:
    return {
        # The sandbox runs with limits off here; pacing is covered by client tests and the benchmark. Retries back
        # off from 50 ms (0.5 s in production): the stand-ins answer at once, and fault tests retry hundreds of times.
        "highlevel": HighLevelResource(
            base_url=sandbox.base_url("highlevel"), token=TOKEN, location_id=LOCATION, retry_base_delay_seconds=0.05
        ),
        "sendowl": SendOwlResource(
            base_url=sandbox.base_url("sendowl"),
            key=SENDOWL_KEY,
            secret=SENDOWL_SECRET,
            min_interval_seconds=0.0,
            retry_base_delay_seconds=0.05,
        ),
        "sendapp": SendAppResource(
            base_url=sandbox.api_url("sendapp"),
            api_key=SENDAPP_KEY,
            channel_token=SENDAPP_CHANNEL,
            min_interval_seconds=0.0,
            retry_base_delay_seconds=0.05,
        ),
        "duckdb": DuckDBResource(database=str(database)),
    }


QUICK = os.environ.get("ETL_TEST_PROFILE", "full") == "quick"  # `make test-fast`: fewer property examples


def examples(full: int) -> int:
    """A property's example count: `full` in CI and `make test`, a tenth (at least one) in the quick profile."""
    return max(1, full // 10) if QUICK else full


def pytest_configure(config: pytest.Config) -> None:
    """With parallel workers (`make test`), hand each worker one test at a time as it gets through its queue (two
    deep), so the workers end together, unless `--maxschedchunk` says otherwise. xdist's own first hand-out is an
    eighth of the whole list to each worker: the minutes-long scenarios at its head all went to the first one."""
    if config.pluginmanager.hasplugin("xdist") and config.getoption("maxschedchunk", None) is None:
        config.option.maxschedchunk = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest first: the minutes-long scenarios (`slow`), each at the head of a different worker's first two
    tests (`pytest_configure`), then the Dagster end-to-end tests, then the quick rest to fill in at the end."""
    items.sort(key=lambda item: (item.get_closest_marker("slow") is None, item.get_closest_marker("e2e") is None))
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    rest = items[len(slow) :]
    head = [item for index, scenario in enumerate(slow) for item in (scenario, *rest[index : index + 1])]
    items[:] = head + rest[len(slow) :]


@pytest.fixture(autouse=True, scope="session")
def _state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Rate-budget ledgers of the whole session (and its child processes) in a temporary directory, not data/."""
    previous = os.environ.get("ETL_STATE_DIR")
    os.environ["ETL_STATE_DIR"] = str(tmp_path_factory.mktemp("state"))
    yield
    if previous is None:
        os.environ.pop("ETL_STATE_DIR", None)
    else:
        os.environ["ETL_STATE_DIR"] = previous


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SANDBOX) as sb:
        yield sb


# Starting states. Each is made once per test session, by the first worker that needs it, and shared with the others
# (`starting_states.made_once`); each test that starts from one (`@pytest.mark.usefixtures("<name>")`, or the
# fixture as an argument for the run's result) gets the saved records restored into its own sandbox and a copy of the
# warehouse. Tests whose point is the step itself (faults or crashes during a backfill or a first sync) still run it.


@pytest.fixture(scope="session")
def extracted_once(tmp_path_factory: pytest.TempPathFactory, _state_dir: None) -> Saved:
    """The 91-day history backfill of the seeded sandbox, through Dagster."""

    def backfill(_: Sandbox, resources: dict[str, Any]) -> dg.ExecuteInProcessResult:
        return dg.materialize(EXTRACT_ASSETS, resources=resources, tags=history_tags())

    return made_once(tmp_path_factory, "extracted", SANDBOX, resources_for, None, backfill)


@pytest.fixture(scope="session")
def synced_once(tmp_path_factory: pytest.TempPathFactory, extracted_once: Saved) -> Saved:
    """The history, then the first sync with every flow on (mass changes allowed)."""
    from etl_tests.sync_helpers import ALL_FLOWS, sync  # it imports this module

    def first_sync(_: Sandbox, resources: dict[str, Any]) -> dg.ExecuteInProcessResult:
        return sync(resources, ALL_FLOWS)

    return made_once(tmp_path_factory, "synced", SANDBOX, resources_for, extracted_once, first_sync)


@pytest.fixture(scope="session")
def converged_once(tmp_path_factory: pytest.TempPathFactory, synced_once: Saved) -> Saved:
    """The history and the first all-flows sync, then the next hourly extraction and sync: the second sync carries
    what the first one's writes set off (the tags flow 3 added in HighLevel reach SendApp)."""
    from etl_tests.sync_helpers import ALL_FLOWS, extract, sync

    def extract_and_sync(_: Sandbox, resources: dict[str, Any]) -> dg.ExecuteInProcessResult:
        extract(resources)
        return sync(resources, ALL_FLOWS)

    return made_once(tmp_path_factory, "converged", SANDBOX, resources_for, synced_once, extract_and_sync)


@pytest.fixture
def history(sandbox: Sandbox, resources: dict[str, Any], extracted_once: Saved) -> None:
    """Start after the history backfill: what `dg.materialize(EXTRACT_ASSETS, tags=history_tags())` leaves."""
    start_from(sandbox, resources, extracted_once)


@pytest.fixture
def synced(sandbox: Sandbox, resources: dict[str, Any], synced_once: Saved) -> RecordedRun:
    """Start after the history and `sync(resources, ALL_FLOWS)`; the fixture's value is that sync's result."""
    start_from(sandbox, resources, synced_once)
    return synced_once.result


@pytest.fixture
def converged(sandbox: Sandbox, resources: dict[str, Any], converged_once: Saved) -> None:
    """Start after the history, the first all-flows sync, `extract(resources)` and `sync(resources, ALL_FLOWS)`."""
    start_from(sandbox, resources, converged_once)


@pytest.fixture
def hl_url(sandbox: Sandbox) -> str:
    return sandbox.base_url("highlevel")


@pytest.fixture
def api(hl_url: str) -> Iterator[httpx.Client]:
    """A bare HTTP client with valid credentials, for contract tests."""
    with httpx.Client(base_url=hl_url, headers=HEADERS, timeout=10) as client:
        yield client


@pytest.fixture
def hl_client(hl_url: str) -> Iterator[HighLevelClient]:
    http = httpx.Client(base_url=hl_url, auth=BearerTokenAuth(TOKEN), timeout=10)
    with HighLevelClient(http, LOCATION, retry=RetryPolicy(base_delay=0.01, max_delay=0.05)) as client:
        yield client


@pytest.fixture
def sendapp_url(sandbox: Sandbox) -> str:
    return sandbox.api_url("sendapp")


@pytest.fixture
def resources(sandbox: Sandbox, tmp_path: Path) -> dict[str, Any]:
    return resources_for(sandbox, tmp_path / "warehouse.duckdb")
