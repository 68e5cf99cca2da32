"""The location registry: every location this deployment knows, whether it is synced now, and if not, why.

A small SQLite file in the data folder (WAL, a busy timeout: the daemon's sensors and every run process read and
write it), or, for a deployment over several machines, a schema in the Dagster instance's PostgreSQL
(`ETL_REGISTRY=postgres`): SQLite's WAL needs every process on one machine, so it cannot live on a shared volume.
Locations come from the locations file and from the agency's installed locations; a location whose access is lost
(token revoked, "Location is not active", app uninstalled) is paused with the reason, never the others, and resumed
by a person (`python -m etl_project.tenants resume ID`) or by discovery once access is back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl_project import settings
from etl_project.platforms.fields import iso_utc

_TABLES = """
CREATE TABLE IF NOT EXISTS {schema}locations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,              -- 'file' (listed in the locations file) or 'agency' (discovered)
    installed INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL,              -- 'active' or 'paused'
    reason TEXT NOT NULL DEFAULT '',   -- why it is paused
    since TEXT NOT NULL,               -- when the status last changed
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {schema}location_events (
    {seq}at TEXT NOT NULL,
    location_id TEXT NOT NULL,
    event TEXT NOT NULL,               -- added, paused, resumed, uninstalled, installed
    detail TEXT NOT NULL DEFAULT ''
);
"""
SQLITE_SCHEMA = _TABLES.format(schema="", seq="")
PG_SCHEMA_NAME = "etl_registry"
PG_SCHEMA = f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA_NAME};\n" + _TABLES.format(
    schema=PG_SCHEMA_NAME + ".", seq="seq BIGSERIAL PRIMARY KEY,\n    "
)

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


class _Db:
    """One transaction's statements, written with `?` placeholders whichever database runs them."""

    def __init__(self, cursor: Any, placeholder: str) -> None:
        self._cursor, self._placeholder = cursor, placeholder

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> int:
        self._cursor.execute(sql.replace("?", self._placeholder), params)
        return int(self._cursor.rowcount)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(sql.replace("?", self._placeholder), params)
        return [tuple(row) for row in self._cursor.fetchall()]


class _SQLite:
    """The registry beside the data: one machine (WAL needs the processes to share memory, so not over NFS)."""

    events_order = "rowid"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SQLITE_SCHEMA)  # commits by itself
        finally:
            db.close()

    @contextmanager
    def tx(self, write: bool) -> Iterator[_Db]:
        """A write transaction takes the write lock up front (IMMEDIATE); a read one only a snapshot."""
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield _Db(db.cursor(), "?")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()


class _Postgres:
    """The registry in the Dagster instance's PostgreSQL (schema `etl_registry`): every machine of a deployment."""

    events_order = "seq"

    def __init__(self, params: dict[str, Any]) -> None:
        self._params = params
        self.path = None
        self.where = f"PostgreSQL {params.get('host')}:{params.get('port')}/{params.get('dbname')} ({PG_SCHEMA_NAME})"
        con = self._connect()
        try:
            with con, con.cursor() as cur:  # one transaction; processes starting together take turns
                cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (PG_SCHEMA_NAME,))
                cur.execute(PG_SCHEMA)
        finally:
            con.close()

    def _connect(self) -> Any:
        import psycopg2  # only a Postgres-backed deployment needs it (dagster-postgres brings it)

        return psycopg2.connect(**self._params, connect_timeout=30)

    @contextmanager
    def tx(self, write: bool) -> Iterator[_Db]:
        """A write transaction locks the locations against other writers (readers go on), as SQLite's IMMEDIATE."""
        con = self._connect()
        try:
            with con, con.cursor() as cur:  # commits when the block ends, rolls back if it raises
                cur.execute(f"SET LOCAL search_path TO {PG_SCHEMA_NAME}")
                if write:
                    cur.execute("LOCK TABLE locations IN SHARE ROW EXCLUSIVE MODE")
                yield _Db(cur, "%s")
        finally:
            con.close()


class Registry:
    """Every location's status and its history of changes, in SQLite beside the data or in PostgreSQL."""

    def __init__(self, path: Path | None = None, postgres: dict[str, Any] | None = None) -> None:
        if (path is None) == (postgres is None):
            raise ValueError("a registry is either a SQLite path or a PostgreSQL connection")
        self._store: _SQLite | _Postgres = _Postgres(postgres) if postgres is not None else _SQLite(Path(str(path)))
        self.path = self._store.path
        self.where = self._store.where

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[_Db]:
        with self._store.tx(write) as db:
            yield db

    @staticmethod
    def _event(db: _Db, location_id: str, event: str, detail: str = "") -> None:
        db.run(
            "INSERT INTO location_events (at, location_id, event, detail) VALUES (?, ?, ?, ?)",
            (_now(), location_id, event, detail),
        )

    def add(self, location_id: str, name: str, source: str) -> bool:
        """Register a location (active) if it is new; refresh its name otherwise. True if it was new."""
        with self._tx() as db:
            found = db.rows("SELECT name FROM locations WHERE id = ?", (location_id,))
            if found:
                if name and found[0][0] != name:
                    db.run("UPDATE locations SET name = ? WHERE id = ?", (name, location_id))
                return False
            now = _now()
            db.run(
                "INSERT INTO locations VALUES (?, ?, ?, 1, ?, '', ?, ?)", (location_id, name, source, ACTIVE, now, now)
            )
            self._event(db, location_id, "added", source)
            return True

    def pause(self, location_id: str, reason: str) -> bool:
        """Stop syncing the location, saying why. True if it was active (so a person is told once)."""
        with self._tx() as db:
            changed = db.run(
                "UPDATE locations SET status = ?, reason = ?, since = ? WHERE id = ? AND status = ?",
                (PAUSED, reason, _now(), location_id, ACTIVE),
            )
            if changed:
                self._event(db, location_id, "paused", reason)
            return bool(changed)

    def resume(self, location_id: str, detail: str = "") -> bool:
        with self._tx() as db:
            changed = db.run(
                "UPDATE locations SET status = ?, reason = '', since = ? WHERE id = ? AND status = ?",
                (ACTIVE, _now(), location_id, PAUSED),
            )
            if changed:
                self._event(db, location_id, "resumed", detail)
            return bool(changed)

    def set_installed(self, location_id: str, installed: bool) -> None:
        """Follow the agency's install list: an uninstalled location is paused; reinstalled, it resumes if that
        was the only reason it was paused."""
        with self._tx() as db:
            found = db.rows("SELECT installed, status, reason FROM locations WHERE id = ?", (location_id,))
            if not found or bool(found[0][0]) == installed:
                return
            _, status, reason = found[0]
            db.run("UPDATE locations SET installed = ? WHERE id = ?", (int(installed), location_id))
            self._event(db, location_id, "installed" if installed else "uninstalled")
            if not installed and status == ACTIVE:
                db.run(
                    "UPDATE locations SET status = ?, reason = ?, since = ? WHERE id = ?",
                    (PAUSED, UNINSTALLED_REASON, _now(), location_id),
                )
                self._event(db, location_id, "paused", UNINSTALLED_REASON)
            elif installed and status == PAUSED and reason == UNINSTALLED_REASON:
                db.run(
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
            rows = db.rows(f"SELECT id, name, source, installed, status, reason, since FROM locations {clause}", params)
        return [LocationState(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6]) for r in rows]

    def events(self, location_id: str | None = None) -> list[tuple[str, str, str, str]]:
        where, params = ("", ()) if location_id is None else ("WHERE location_id = ? ", (location_id,))
        sql = f"SELECT at, location_id, event, detail FROM location_events {where}ORDER BY {self._store.events_order}"
        with self._tx(write=False) as db:
            return [(r[0], r[1], r[2], r[3]) for r in db.rows(sql, params)]


def open_registry(data_dir: Path) -> Registry:
    """The deployment's registry: in PostgreSQL when `ETL_REGISTRY=postgres` (the instance's `DAGSTER_PG_*`
    connection; what a deployment over several machines needs), else `registry.sqlite` in the data folder."""
    backend = settings.registry_backend()
    if backend == "postgres":
        return Registry(postgres=settings.postgres_params())
    return Registry(data_dir / "registry.sqlite")
