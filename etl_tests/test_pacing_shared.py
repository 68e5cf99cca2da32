"""Rate budgets hold across processes: pacers of separate OS processes spend one ledger, and a killed process
(holding the ledger's lock or an unanswered request) never stalls the others."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from etl_project.platforms.ledger import FileLedger
from etl_project.platforms.pacing import IN_FLIGHT_LEASE, IntervalPacer, budget_key
from etl_project.sandbox.server import Sandbox, SandboxConfig
from etl_tests import pacing_workers
from etl_tests.conftest import SENDAPP_KEY, SENDOWL_KEY, SENDOWL_SECRET

SPAWN = multiprocessing.get_context("spawn")  # a fresh interpreter, as a Dagster run worker is


def run_pacers(kind: str, directory: Path, processes: int, requests: int) -> list[float]:
    barrier, sent = SPAWN.Barrier(processes), SPAWN.Queue()
    key = budget_key("test", kind)
    workers = [
        SPAWN.Process(target=pacing_workers.pace, args=(kind, str(directory), key, requests, barrier, sent))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    times = sorted(t for _ in workers for t in sent.get(timeout=120))
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    return times


def test_interval_pacers_of_three_processes_keep_one_gap(tmp_path: Path) -> None:
    times = run_pacers("interval", tmp_path, processes=3, requests=5)
    gaps = [b - a for a, b in pairwise(times)]
    assert len(times) == 15 and min(gaps) >= 0.1, gaps


def test_window_pacers_of_three_processes_share_one_window(tmp_path: Path) -> None:
    times = run_pacers("window", tmp_path, processes=3, requests=5)
    spans = [times[i + 4] - times[i] for i in range(len(times) - 4)]
    assert len(times) == 15 and min(spans) >= 0.5, "never 5 requests inside one 0.5 s window"


class Holder:
    """Starts processes that hold a budget (its file lock, or an unanswered request) until killed."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ledger = FileLedger(directory, budget_key("test", "killed"))
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, what: str) -> subprocess.Popen[str]:
        argv = [sys.executable, "-m", "etl_tests.pacing_workers", what, str(self.directory), self.ledger.path.stem]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        self.procs.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        return proc


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Holder]:
    holder = Holder(tmp_path)
    yield holder
    for proc in holder.procs:
        proc.kill()
        proc.wait(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()


def finishes(action: Callable[[], None], timeout: float = 60) -> bool:
    """Run `action` in a thread; did it return within `timeout` (a deadlock would not)?"""
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive()


def test_a_sigkilled_lock_holder_never_deadlocks_the_ledger(holder: Holder) -> None:
    ledger = holder.ledger
    proc = holder.start("lock")
    fd = os.open(ledger.lock_path, os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the child really holds it
    finally:
        os.close(fd)
    proc.kill()  # SIGKILL: no clean-up runs; the child is not even reaped yet
    assert finishes(IntervalPacer(0.1, ledger=ledger).before_request), "the kernel released the dead child's lock"


def test_a_sigkilled_request_holder_does_not_keep_its_slot(holder: Holder) -> None:
    ledger = holder.ledger
    proc = holder.start("slot")
    pacer = IntervalPacer(0.1, ledger=ledger)
    assert pacer._reserve() > 0, "while the child's request is unanswered, nobody else may send"
    proc.kill()  # left a zombie on purpose: a killed run worker is one until its parent reaps it
    assert finishes(pacer.before_request, timeout=IN_FLIGHT_LEASE / 4), "reclaimed long before the lease ends"


@pytest.fixture
def limited() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(contacts=30, seed=5, rate_limits="real")) as sb:
        yield sb


def test_three_extraction_processes_send_no_429_and_no_sendowl_block(limited: Sandbox) -> None:
    # SendApp's 60 a minute would not be reached by a short test; 2 a second, with clients pacing at one request
    # per 0.5 s, is the same rule made quick. SendOwl keeps its real rule (one a second, else a 30 s block).
    sendapp_admin = limited.base_url("sendapp") + "/_sandbox"
    httpx.post(f"{sendapp_admin}/rate-limits", json={"burst_max": 2, "interval_ms": 1000}).raise_for_status()
    urls = {"sendapp": limited.api_url("sendapp"), "sendowl": limited.api_url("sendowl")}
    barrier, errors = SPAWN.Barrier(3), SPAWN.Queue()
    workers = [SPAWN.Process(target=pacing_workers.extract, args=(urls, 2, barrier, errors)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=180)
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    sendapp = httpx.get(f"{sendapp_admin}/stats").json()
    sendowl = httpx.get(f"{limited.base_url('sendowl')}/_sandbox/stats").json()
    assert sendapp["by_status"] == {"200": 6}, (sendapp["by_status"], failures)
    assert sendowl["by_status"] == {"200": 6}, (sendowl["by_status"], failures)
    assert sendapp["rate_limited"] == 0 and sendowl["rate_limited"] == 0
    assert failures == [] and [w.exitcode for w in workers] == [0, 0, 0]
    ledgers = list(Path(os.environ["ETL_STATE_DIR"]).iterdir())
    assert ledgers, "the run processes paced through files in ETL_STATE_DIR"
    for secret in (SENDOWL_KEY, SENDOWL_SECRET, SENDAPP_KEY):
        assert not any(secret in f.name or secret in f.read_text() for f in ledgers), "no credential in a ledger"
