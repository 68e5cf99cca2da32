"""Shared fixtures: a sandbox served over real loopback HTTP, clients and resources pointed at it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dagster_duckdb import DuckDBResource

from etl_project.defs.resources import HighLevelResource, SendAppResource, SendOwlResource
from etl_project.platforms.highlevel import BearerTokenAuth, HighLevelClient
from etl_project.platforms.http import RetryPolicy
from etl_project.sandbox.server import Sandbox, SandboxConfig

TOKEN = "pit-sandbox-token"
LOCATION = "loc-sandbox-0001"
SENDAPP_KEY = "sandbox-sendapp-key"
SENDOWL_KEY, SENDOWL_SECRET = "sandbox-sendowl-key", "sandbox-sendowl-secret"
SENDAPP_CHANNEL = "sandbox-channel-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Version": "2021-07-28"}


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
    with Sandbox(SandboxConfig(contacts=60, seed=7, rate_limits="off")) as sb:
        yield sb


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
def resources(sandbox: Sandbox, hl_url: str, sendapp_url: str, tmp_path: Path) -> dict[str, object]:
    return {
        "highlevel": HighLevelResource(base_url=hl_url, token=TOKEN, location_id=LOCATION),
        # The sandbox runs with limits off here; pacing is covered by client tests and the benchmark.
        "sendowl": SendOwlResource(
            base_url=sandbox.base_url("sendowl"), key=SENDOWL_KEY, secret=SENDOWL_SECRET, min_interval_seconds=0.0
        ),
        "sendapp": SendAppResource(
            base_url=sendapp_url, api_key=SENDAPP_KEY, channel_token=SENDAPP_CHANNEL, min_interval_seconds=0.0
        ),
        "duckdb": DuckDBResource(database=str(tmp_path / "warehouse.duckdb")),
    }
