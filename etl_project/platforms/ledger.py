"""Where a pacer keeps its budget: in this process, or in a file every process on the machine shares.

A rate limit belongs to the account, and a backfill, an hourly run and a sync are separate Dagster run processes
that may call the same account at the same moment. `FileLedger` keeps one budget's state in a small JSON file and
serialises every read-modify-write with `fcntl.flock` on a sidecar lock file. flock rather than SQLite or a lock
file created with O_EXCL: the kernel releases an flock when its holder dies (even on SIGKILL), so a crashed run
can never leave a stale lock behind, and it needs no dependency and no clean-up. The state file is replaced
atomically (write a temporary file, `os.replace`), so a process killed mid-write leaves the previous state intact;
the lock file is never replaced, because an flock belongs to an inode and a replaced file would split the lock.
flock is reliable on local file systems only: keep the state directory on the machine that runs the processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

State = dict[str, Any]


class Ledger(Protocol):
    """A budget's mutable state, changed only inside `transaction()` (mutual exclusion across its users)."""

    shared: bool  # True when other processes read it too: times must then come from the wall clock

    def transaction(self) -> contextlib.AbstractContextManager[State]: ...


class MemoryLedger:
    """State held by this process only (the default: tests, and clients built outside the resources)."""

    shared = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: State = {}

    @contextlib.contextmanager
    def transaction(self) -> Iterator[State]:
        with self._lock:
            yield self._state


class FileLedger:
    """State in `<directory>/<key>.json`, guarded by an exclusive flock on `<directory>/<key>.lock`.

    `key` names the file, so it must not hold a secret: pass `pacing.budget_key(...)`, a hash.
    """

    shared = True

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = Path(directory)
        self.path = self.directory / f"{key}.json"
        self.lock_path = self.directory / f"{key}.lock"
        self._thread_lock = threading.Lock()  # flock is per open file: threads of one process queue here first

    @contextlib.contextmanager
    def transaction(self) -> Iterator[State]:
        with self._thread_lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # released by the kernel on close or on process death
                state = self._load()
                before = json.dumps(state, sort_keys=True)
                yield state
                after = json.dumps(state, sort_keys=True)
                if after != before:
                    self._store(after)
            finally:
                os.close(fd)

    def _load(self) -> State:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}  # first use, or a file nobody should have edited: start from an empty ledger
        return data if isinstance(data, dict) else {}

    def _store(self, text: str) -> None:
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, self.path)


def pid_alive(pid: int) -> bool:
    """Does process `pid` still run on this machine (else its in-flight slot can be reclaimed)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): trust kill(0); the lease still ends
    # A killed run worker stays a zombie until its parent reaps it; it will never answer again.
    return stat.rpartition(")")[2].split()[0] != "Z"
