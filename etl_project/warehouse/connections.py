"""Short-lived warehouse connections without a DuckDB instance start each.

The warehouse opens a connection per short transaction and lets go of the file in between, so runs in other
processes take turns on it. Opening the file as a new DuckDB instance costs ~15-20 ms (the instance builds its
catalog of built-in functions), a third of a sync's time when every outbox row pays it. Instead, one in-memory
instance per process ATTACHes the file for the outermost connection and DETACHes it when that one closes: the same
file lock taken and released, the same checkpoint a close makes, for a few milliseconds. Connections opened while
one is open (`Warehouse.held`) share the attachment.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

# As `DuckDBResource.get_connection`: another process holding the file is waited for, 0.1 s doubling, 10 retries.
LOCK_RETRIES = 10
FIRST_DELAY = 0.1


class _Attachments:
    """The process's in-memory instance and the files attached to it, each with how many connections use it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._base: duckdb.DuckDBPyConnection | None = None
        self._pid = 0
        self._users: dict[str, int] = {}  # alias → open connections

    def _instance(self) -> duckdb.DuckDBPyConnection:
        if self._base is None or self._pid != os.getpid():  # a forked child starts its own
            self._base, self._pid, self._users = duckdb.connect(":memory:"), os.getpid(), {}
        return self._base

    def acquire(self, path: str) -> tuple[duckdb.DuckDBPyConnection, str]:
        """A new connection whose default database is the file (attached now unless it already is)."""
        alias = "warehouse_" + hashlib.sha256(path.encode()).hexdigest()[:16]
        with self._lock:
            base = self._instance()
            if not self._users.get(alias):
                _attach(base, path, alias)
            self._users[alias] = self._users.get(alias, 0) + 1
            con = base.cursor()
        try:
            con.execute(f"USE {alias}")
        except BaseException:
            con.close()
            self.release(alias)
            raise
        return con, alias

    def release(self, alias: str) -> None:
        with self._lock:
            self._users[alias] -= 1
            if not self._users[alias] and self._base is not None and self._pid == os.getpid():
                del self._users[alias]
                with self._base.cursor() as con:
                    con.execute(f"DETACH {alias}")  # checkpoints and lets go of the file


def _attach(base: duckdb.DuckDBPyConnection, path: str, alias: str) -> None:
    literal = "'" + path.replace("'", "''") + "'"
    delay = FIRST_DELAY
    for attempt in range(LOCK_RETRIES + 1):
        try:
            with base.cursor() as con:
                con.execute(f"ATTACH {literal} AS {alias}")
            return
        except (RuntimeError, duckdb.IOException):
            if attempt == LOCK_RETRIES:
                raise
            time.sleep(delay)
            delay *= 2


_ATTACHMENTS = _Attachments()


@contextmanager
def attached(database: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """One connection to the warehouse file `database` (a path), as `duckdb.connect(database)` gives, for one
    `with` block. The file is locked from the first open connection until the last one closes."""
    con, alias = _ATTACHMENTS.acquire(str(Path(database).resolve()))
    try:
        yield con
    finally:
        con.close()
        _ATTACHMENTS.release(alias)
