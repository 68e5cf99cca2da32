"""Shared fixtures: a sandbox served over real loopback HTTP, clients and resources pointed at it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
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
from etl_project.sandbox.server import Sandbox, SandboxConfig, SandboxState

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
        "highlevel": HighLevelResource(base_url=sandbox.base_url("highlevel"), token=TOKEN, location_id=LOCATION),
        # The sandbox runs with limits off here; pacing is covered by client tests and the benchmark.
        "sendowl": SendOwlResource(
            base_url=sandbox.base_url("sendowl"), key=SENDOWL_KEY, secret=SENDOWL_SECRET, min_interval_seconds=0.0
        ),
        "sendapp": SendAppResource(
            base_url=sandbox.api_url("sendapp"),
            api_key=SENDAPP_KEY,
            channel_token=SENDAPP_CHANNEL,
            min_interval_seconds=0.0,
        ),
        "duckdb": DuckDBResource(database=str(database)),
    }


@dataclass(frozen=True)
class Extracted:
    """The seeded sandbox's records and a warehouse holding their whole history, extracted once per session."""

    state: SandboxState
    warehouse: Path
    result: dg.ExecuteInProcessResult  # the backfill run's events (each partition's materialization)


QUICK = os.environ.get("ETL_TEST_PROFILE", "full") == "quick"  # `make test-fast`: fewer property examples


def examples(full: int) -> int:
    """A property's example count: `full` in CI and `make test`, a tenth (at least one) in the quick profile."""
    return max(1, full // 10) if QUICK else full


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Minutes-long scenarios (`slow`) first: with parallel workers (`make test`), the others fill in around them
    instead of one worker starting a soak when the rest are done."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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


@pytest.fixture(scope="session")
def extracted_once(tmp_path_factory: pytest.TempPathFactory, _state_dir: None) -> Extracted:
    """The 91-day backfill, run once through Dagster: each test that starts from it gets a copy (`extracted`)."""
    folder = tmp_path_factory.mktemp("extracted")
    with Sandbox(SANDBOX) as sb:
        result = dg.materialize(EXTRACT_ASSETS, resources=resources_for(sb, folder / "w.duckdb"), tags=history_tags())
        assert result.success
        return Extracted(sb.snapshot(), folder / "w.duckdb", result)


@pytest.fixture
def history(sandbox: Sandbox, resources: dict[str, Any], extracted_once: Extracted) -> None:
    """Start the test after the history backfill (`@pytest.mark.usefixtures("history")`): the sandbox holds the
    seeded records and the test's warehouse is a copy of the one they were landed in, what
    `dg.materialize(EXTRACT_ASSETS, tags=history_tags())` leaves, without running it again."""
    start_from(sandbox, resources, extracted_once.state, extracted_once.warehouse)


def start_from(sandbox: Sandbox, resources: dict[str, Any], state: SandboxState, warehouse: Path) -> None:
    """Put a saved state in the test's sandbox and a copy of the warehouse it was landed in under its resources."""
    sandbox.restore(state)
    for suffix in ("", ".wal"):
        if (saved := Path(f"{warehouse}{suffix}")).exists():
            shutil.copyfile(saved, f"{resources['duckdb'].database}{suffix}")


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
