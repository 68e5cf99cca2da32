"""The send loop's hold on the warehouse file (`load/held.py`): quick platform answers keep one opening of the file,
a slow one lets other processes at it. Real DuckDB files; the other process is a real one."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from etl_project.load.held import Held
from etl_tests.bad_input_helpers import make_warehouse

OPEN_FROM_ANOTHER_PROCESS = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"


def _other_process_opens(path: Path) -> bool:
    done = subprocess.run([sys.executable, "-c", OPEN_FROM_ANOTHER_PROCESS, str(path)], capture_output=True)
    return done.returncode == 0


class Counted:
    def __init__(self) -> None:
        self.opened = self.closed = 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        self.opened += 1
        try:
            yield
        finally:
            self.closed += 1


def test_answers_within_the_linger_keep_one_opening_for_every_row() -> None:
    counted = Counted()
    held = Held(counted.hold, linger=3600)
    for _row in range(5):
        held.enter()
        held.leave_soon()  # the platform call; it answers before the linger ends
    held.enter()
    assert (counted.opened, counted.closed) == (1, 0)
    held.leave()
    assert (counted.opened, counted.closed) == (1, 1)


def test_a_call_longer_than_the_linger_lets_go_and_the_next_booking_opens_again() -> None:
    counted = Counted()
    held = Held(counted.hold, linger=0.01)
    held.enter()
    held.leave_soon()
    deadline = time.monotonic() + 120
    while counted.closed == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # polling a condition, bounded by the deadline
    assert counted.closed == 1
    held.enter()
    held.leave()
    assert (counted.opened, counted.closed) == (2, 2)


def test_the_file_is_locked_while_held_and_free_once_a_slow_call_let_go(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    warehouse = make_warehouse(path)
    held = Held(warehouse.held, linger=3600)
    held.enter()
    held.leave_soon()  # a call well within the linger: the file stays held
    assert not _other_process_opens(path)
    held.leave()
    assert _other_process_opens(path)

    slow = Held(warehouse.held, linger=0.05)
    slow.enter()
    slow.leave_soon()  # the call takes its time: the file is let go while it waits
    deadline = time.monotonic() + 120
    while not _other_process_opens(path):
        assert time.monotonic() < deadline, "the file was never let go during a slow platform call"
    slow.enter()
    assert not _other_process_opens(path)
    slow.leave()
