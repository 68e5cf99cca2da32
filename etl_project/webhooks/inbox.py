"""The durable inbox: every accepted webhook, appended before the receiver answers 2xx, drained by a sensor.

Why SQLite in WAL mode, not the DuckDB warehouse:
- DuckDB allows one writing process; a sync run may hold the warehouse for minutes. The receiver must answer
  HighLevel within seconds, so its store must never wait on that writer. SQLite is a separate file with its own lock.
- WAL lets the sensor read and claim while the receiver appends: readers never block the writer and the writer
  never blocks readers; writers (the receiver's appends, the sensor's claims) are short and wait on each other at
  most `busy_timeout`.
- Durability: each append is its own committed transaction before the 2xx goes out. In WAL mode a commit is in
  the WAL file once `COMMIT` returns, so a receiver killed (SIGKILL) right after loses nothing under either
  setting; `synchronous=FULL` (the default) also fsyncs the WAL on every commit, so an answered event survives a
  power loss or OS crash too. `normal` skips that fsync (faster; the last commits may be lost on power loss, which
  the nightly reconciliation then covers).

Delivery to the sensor is at-least-once: `claim` marks rows with a claim id (so two drains never take the same rows),
`complete` marks them done only after the run that used them succeeded, `release` hands them back after a failure,
and a claim older than `claim_timeout` (a crashed drain) is claimable again.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Short statements kept beside the one class that runs them (this store is not the warehouse's DuckDB).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key  TEXT NOT NULL UNIQUE,
    platform    TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    location_id TEXT,
    record_kind TEXT NOT NULL,
    record_id   TEXT,
    contact_id  TEXT,
    received_at TEXT NOT NULL,
    body        BLOB NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'claimed', 'done')),
    claim_id    TEXT,
    claimed_at  REAL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    done_at     TEXT
);
CREATE INDEX IF NOT EXISTS inbox_events_status ON inbox_events (status, seq);
CREATE INDEX IF NOT EXISTS inbox_events_claim ON inbox_events (claim_id);
"""
_COLUMNS = "platform, event_type, location_id, record_kind, record_id, contact_id, dedupe_key, received_at, body"
_APPEND = f"INSERT INTO inbox_events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
_CLAIM = """
UPDATE inbox_events SET status = 'claimed', claim_id = ?, claimed_at = ?, attempts = attempts + 1
WHERE seq IN (
    SELECT seq FROM inbox_events
    WHERE status = 'pending' OR (status = 'claimed' AND claimed_at < ?)
    ORDER BY seq LIMIT ?
)
"""
_CLAIMED = f"SELECT {_COLUMNS}, seq, attempts FROM inbox_events WHERE claim_id = ? AND status = 'claimed' ORDER BY seq"
_COMPLETE = "UPDATE inbox_events SET status = 'done', done_at = ? WHERE claim_id = ? AND status = 'claimed'"
_RELEASE = "UPDATE inbox_events SET status = 'pending', claim_id = NULL WHERE claim_id = ? AND status = 'claimed'"
_COUNTS = "SELECT status, count(*) FROM inbox_events GROUP BY status"
_PRUNE = "DELETE FROM inbox_events WHERE status = 'done' AND done_at < ?"


@dataclass(frozen=True)
class InboxEvent:
    """One accepted delivery: which record it says is dirty. The body is kept for audit, never trusted as data."""

    platform: str  # highlevel | sendowl
    event_type: str  # ContactUpdate, TaskComplete, order.completed, ...
    location_id: str | None
    record_kind: str  # contact | task | note | appointment | location | order
    record_id: str | None  # the record's own id (may be missing: TaskCreate has been seen without fields)
    contact_id: str | None  # the contact a task, note or appointment belongs to
    dedupe_key: str
    received_at: str  # ISO UTC
    body: bytes
    seq: int = 0  # set when read back from the inbox
    attempts: int = 0


@dataclass(frozen=True)
class Batch:
    claim_id: str
    events: tuple[InboxEvent, ...]


class Inbox:
    """Thread-safe over one connection (the receiver calls it from a thread pool); one instance per process."""

    def __init__(self, path: Path | str, synchronous: str = "full", claim_timeout: float = 900.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.claim_timeout = claim_timeout
        self._lock = threading.Lock()  # the connection: one statement or transaction at a time
        self._queue_lock = threading.Lock()
        self._queue: list[_Slot] = []
        # isolation_level=None: autocommit, so each append is one committed transaction when execute returns.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=5.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if synchronous == 'full' else 'NORMAL'}")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self.path.chmod(0o600)  # the bodies hold personal data

    def append(self, event: InboxEvent) -> bool:
        """Store the event and return once it is committed; False when its dedupe key is already there.

        Group commit: concurrent callers queue their rows and whichever takes the lock first commits every queued
        row in one transaction (one fsync under synchronous=FULL), so each caller still returns only after its own
        row is durable, and the fsync cost is shared by the deliveries that arrived together.
        """
        slot = _Slot(event)
        with self._queue_lock:
            self._queue.append(slot)
        with self._lock:
            if not slot.done:  # no earlier committer took it: commit everything queued so far
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._commit(batch)
        if slot.error is not None:
            raise slot.error
        return slot.stored

    def _commit(self, batch: list[_Slot]) -> None:
        try:
            self._db.execute("BEGIN")
            for slot in batch:
                e = slot.event
                row = (e.platform, e.event_type, e.location_id, e.record_kind, e.record_id, e.contact_id, e.dedupe_key)
                slot.stored = self._db.execute(_APPEND, (*row, e.received_at, e.body)).rowcount == 1
            self._db.execute("COMMIT")
        except Exception as exc:  # nothing of the batch is stored: every caller answers 503 and is retried
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            for slot in batch:
                slot.stored, slot.error = False, exc
        for slot in batch:
            slot.done = True

    def claim(self, limit: int) -> Batch:
        """Take up to `limit` of the oldest claimable rows; an empty batch when there are none."""
        claim_id = uuid.uuid4().hex
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # the select and the update as one step against other processes
            try:
                self._db.execute(_CLAIM, (claim_id, now, now - self.claim_timeout, limit))
                rows = self._db.execute(_CLAIMED, (claim_id,)).fetchall()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return Batch(claim_id, tuple(_event(row) for row in rows))

    def complete(self, claim_id: str) -> int:
        """Mark a claim's rows done (after its run succeeded). A claim that expired and was re-taken counts 0."""
        with self._lock:
            return self._db.execute(_COMPLETE, (_now_iso(), claim_id)).rowcount

    def release(self, claim_id: str) -> int:
        """Hand a claim's rows back (its run failed): the next drain takes them again."""
        with self._lock:
            return self._db.execute(_RELEASE, (claim_id,)).rowcount

    def counts(self) -> dict[str, int]:
        with self._lock:
            found = dict(self._db.execute(_COUNTS).fetchall())
        return {status: int(found.get(status, 0)) for status in ("pending", "claimed", "done")}

    def prune(self, done_before: str) -> int:
        """Delete done rows older than an ISO time. Keep more than the timestamp window: a pruned key no longer
        dedupes, and only the freshness check then stops a replay."""
        with self._lock:
            return self._db.execute(_PRUNE, (done_before,)).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass
class _Slot:
    """One caller's row in a group commit; `done` and the outcome are written under the connection lock."""

    event: InboxEvent
    stored: bool = False
    error: Exception | None = None
    done: bool = False


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _event(row: tuple[Any, ...]) -> InboxEvent:
    platform, event_type, location, kind, record, contact, key, received, body, seq, attempts = row
    return InboxEvent(
        str(platform),
        str(event_type),
        None if location is None else str(location),
        str(kind),
        None if record is None else str(record),
        None if contact is None else str(contact),
        str(key),
        str(received),
        bytes(body),
        int(seq),
        int(attempts),
    )
