"""The location registry: every location this deployment knows, whether it is synced now, and if not, why.

A small SQLite file in the data folder (WAL, a busy timeout: the daemon's sensors and every run process read and
write it). Locations come from the locations file and from the agency's installed locations; a location whose
access is lost (token revoked, "Location is not active", app uninstalled) is paused with the reason, never the
others, and resumed by a person (`python -m etl_project.tenants resume ID`) or by discovery once access is back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from etl_project.platforms.fields import iso_utc

SCHEMA = """
CREATE TABLE IF NOT EXISTS locations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,              -- 'file' (listed in the locations file) or 'agency' (discovered)
    installed INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL,              -- 'active' or 'paused'
    reason TEXT NOT NULL DEFAULT '',   -- why it is paused
    since TEXT NOT NULL,               -- when the status last changed
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS location_events (
    at TEXT NOT NULL,
    location_id TEXT NOT NULL,
    event TEXT NOT NULL,               -- added, paused, resumed, uninstalled, installed
    detail TEXT NOT NULL DEFAULT ''
);
"""

ACTIVE, PAUSED = "active", "paused"
UNINSTALLED_REASON = "the app was uninstalled from this location"


@dataclass(frozen=True)
class LocationState:
    id: str
    name: str
    source: str
    installed: bool
    status: str
    reason: str
    since: str

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


def _now() -> str:
    return iso_utc(datetime.now(UTC))


class Registry:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)  # commits by itself
        finally:
            db.close()

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """A transaction; a write one takes the write lock up front (IMMEDIATE), a read one only a snapshot."""
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    @staticmethod
    def _event(db: sqlite3.Connection, location_id: str, event: str, detail: str = "") -> None:
        db.execute("INSERT INTO location_events VALUES (?, ?, ?, ?)", (_now(), location_id, event, detail))

    def add(self, location_id: str, name: str, source: str) -> bool:
        """Register a location (active) if it is new; refresh its name otherwise. True if it was new."""
        with self._tx() as db:
            row = db.execute("SELECT name FROM locations WHERE id = ?", (location_id,)).fetchone()
            if row is not None:
                if name and row[0] != name:
                    db.execute("UPDATE locations SET name = ? WHERE id = ?", (name, location_id))
                return False
            now = _now()
            db.execute(
                "INSERT INTO locations VALUES (?, ?, ?, 1, ?, '', ?, ?)", (location_id, name, source, ACTIVE, now, now)
            )
            self._event(db, location_id, "added", source)
            return True

    def pause(self, location_id: str, reason: str) -> bool:
        """Stop syncing the location, saying why. True if it was active (so a person is told once)."""
        with self._tx() as db:
            changed = db.execute(
                "UPDATE locations SET status = ?, reason = ?, since = ? WHERE id = ? AND status = ?",
                (PAUSED, reason, _now(), location_id, ACTIVE),
            ).rowcount
            if changed:
                self._event(db, location_id, "paused", reason)
            return bool(changed)

    def resume(self, location_id: str, detail: str = "") -> bool:
        with self._tx() as db:
            changed = db.execute(
                "UPDATE locations SET status = ?, reason = '', since = ? WHERE id = ? AND status = ?",
                (ACTIVE, _now(), location_id, PAUSED),
            ).rowcount
            if changed:
                self._event(db, location_id, "resumed", detail)
            return bool(changed)

    def set_installed(self, location_id: str, installed: bool) -> None:
        """Follow the agency's install list: an uninstalled location is paused; reinstalled, it resumes if that
        was the only reason it was paused."""
        with self._tx() as db:
            row = db.execute("SELECT installed, status, reason FROM locations WHERE id = ?", (location_id,)).fetchone()
            if row is None or bool(row[0]) == installed:
                return
            db.execute("UPDATE locations SET installed = ? WHERE id = ?", (int(installed), location_id))
            self._event(db, location_id, "installed" if installed else "uninstalled")
            if not installed and row[1] == ACTIVE:
                db.execute(
                    "UPDATE locations SET status = ?, reason = ?, since = ? WHERE id = ?",
                    (PAUSED, UNINSTALLED_REASON, _now(), location_id),
                )
                self._event(db, location_id, "paused", UNINSTALLED_REASON)
            elif installed and row[1] == PAUSED and row[2] == UNINSTALLED_REASON:
                db.execute(
                    "UPDATE locations SET status = ?, reason = '', since = ? WHERE id = ?",
                    (ACTIVE, _now(), location_id),
                )
                self._event(db, location_id, "resumed", "the app was installed again")

    def get(self, location_id: str) -> LocationState | None:
        rows = self._states("WHERE id = ?", (location_id,))
        return rows[0] if rows else None

    def all(self) -> list[LocationState]:
        return self._states("ORDER BY id", ())

    def _states(self, clause: str, params: tuple[str, ...]) -> list[LocationState]:
        with self._tx(write=False) as db:
            rows = db.execute(
                f"SELECT id, name, source, installed, status, reason, since FROM locations {clause}", params
            ).fetchall()
        return [LocationState(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6]) for r in rows]

    def events(self, location_id: str | None = None) -> list[tuple[str, str, str, str]]:
        with self._tx(write=False) as db:
            if location_id is None:
                rows = db.execute("SELECT * FROM location_events ORDER BY rowid").fetchall()
            else:
                rows = db.execute(
                    "SELECT * FROM location_events WHERE location_id = ? ORDER BY rowid", (location_id,)
                ).fetchall()
        return [tuple(r) for r in rows]
