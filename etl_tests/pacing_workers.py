"""Processes that spend one rate budget together, for the cross-process pacing tests.

`pace` and `extract` are `multiprocessing` (spawn) targets. The command line holds a budget and waits to be killed:
    python -m etl_tests.pacing_workers lock|slot <state dir> <budget key>
prints "ready" once it holds the ledger's file lock (`lock`) or an in-flight slot (`slot`).
"""

from __future__ import annotations

import itertools
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl_project.platforms.ledger import FileLedger
from etl_project.platforms.pacing import IntervalPacer, Pacer, WindowPacer

LATENCY = 0.01  # between a request leaving and its answer


def make_pacer(kind: str, directory: str, key: str) -> Pacer:
    ledger = FileLedger(Path(directory), key)
    if kind == "interval":
        return IntervalPacer(0.1, ledger=ledger)
    return WindowPacer(max_requests=4, interval=0.5, ledger=ledger)


def pace(kind: str, directory: str, key: str, requests: int, barrier: Any, sent: Any) -> None:
    """Send `requests` pretend requests through a shared pacer; report the wall-clock time each one left."""
    pacer = make_pacer(kind, directory, key)
    barrier.wait(timeout=120)
    times = []
    for _ in range(requests):
        pacer.before_request()
        times.append(time.time())
        time.sleep(LATENCY)
        pacer.after_response(None)
    sent.put(times)


def extract(urls: dict[str, str], pages: int, barrier: Any, errors: Any) -> None:
    """Read a few pages of SendApp contacts and SendOwl orders through the resources, as an extraction run does."""
    # Imported here: the pacing-only workers start faster without Dagster.
    from etl_project.defs.resources import SendAppResource, SendOwlResource
    from etl_tests.conftest import SENDAPP_KEY, SENDOWL_KEY, SENDOWL_SECRET

    sendapp = SendAppResource(
        base_url=urls["sendapp"], api_key=SENDAPP_KEY, min_interval_seconds=0.5, max_total_wait_seconds=10
    )
    sendowl = SendOwlResource(
        base_url=urls["sendowl"],
        key=SENDOWL_KEY,
        secret=SENDOWL_SECRET,
        block_cooldown_seconds=1.0,
        max_total_wait_seconds=10,
    )
    barrier.wait(timeout=120)
    try:
        with sendapp.get_client() as client:
            since = datetime(2000, 1, 1, tzinfo=UTC)
            list(itertools.islice(client.iter_contacts_updated(since, datetime.now(UTC), per_page=3), pages))
        with sendowl.get_client() as owl:
            list(itertools.islice(owl.iter_orders(per_page=3), pages))
    except Exception as exc:  # reported to the test, which shows it next to the sandbox's counts
        errors.put(f"{type(exc).__name__}: {exc}")


def main(what: str, directory: str, key: str) -> None:
    ledger = FileLedger(Path(directory), key)
    if what == "lock":
        with ledger.transaction():
            print("ready", flush=True)
            time.sleep(600)
    IntervalPacer(0.1, ledger=ledger).before_request()
    print("ready", flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main(*sys.argv[1:])
