"""Resources hand out clients that share one pacer per rate budget, so consecutive assets never trip a limit."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from etl_project.defs.resources import HighLevelResource, SendOwlResource
from etl_project.sandbox.server import Sandbox, SandboxConfig
from etl_tests.conftest import LOCATION, SENDOWL_KEY, SENDOWL_SECRET, TOKEN


@pytest.fixture
def limited() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(contacts=20, seed=3, rate_limits="real")) as sb:
        yield sb


def test_consecutive_sendowl_clients_are_paced_together(limited: Sandbox) -> None:
    resource = SendOwlResource(
        base_url=limited.api_url("sendowl"), key=SENDOWL_KEY, secret=SENDOWL_SECRET, block_cooldown_seconds=1.0
    )
    for _ in range(3):  # three assets of one run, each with its own client
        with resource.get_client() as client:
            client.list_products()
    stats = httpx.get(f"{limited.base_url('sendowl')}/_sandbox/stats").json()
    assert stats["by_status"] == {"200": 3}, "no 403 block: the second client waited for the first one's second"


def test_consecutive_highlevel_clients_share_the_burst_window(limited: Sandbox) -> None:
    url = limited.base_url("highlevel")
    httpx.post(f"{url}/_sandbox/rate-limits", json={"burst_max": 6, "interval_ms": 1500})
    resource = HighLevelResource(base_url=url, token=TOKEN, location_id=LOCATION)
    for _ in range(3):
        with resource.get_client() as client:
            for _ in range(4):
                client.find_duplicate(email="nobody@example.com")
    stats = httpx.get(f"{url}/_sandbox/stats").json()
    assert stats["by_status"] == {"200": 12}
