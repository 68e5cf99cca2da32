"""The DuckDB warehouse: idempotent landing of extracted batches, quarantine, the window ledger and cursors.

DuckDB admits one writing process at a time, so every method opens a connection for one short transaction
and closes it; nothing holds the file across an HTTP call. Batches reach SQL as registered DataFrames.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd

from etl_project.platforms.validation import Rejected
from etl_project.warehouse.sql import create_statements, load_sql
from etl_project.warehouse.tables import KINDS, kind_table

Connect = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]


def canonical_json(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def payload_hash(payload_json: str) -> str:
    return hashlib.sha256(payload_json.encode()).hexdigest()


class EmptyListing(ValueError):
    """A full listing came back empty while records are landed: nothing is marked deleted."""


@dataclass(frozen=True)
class Record:
    """A validated record ready to land: its id, parent (for child kinds) and payload as received."""

    record_id: str
    payload: Mapping[str, Any]
    parent_id: str | None = None


@dataclass
class LandResult:
    records: int = 0
    new_records: int = 0
    changed: int = 0
    versions_added: int = 0
    quarantined: int = 0
    deleted: int = 0

    def add(self, other: LandResult) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class Window:
    """Where a run sits: its partition, the partition's window, the span actually read, and its run."""

    partition_key: str
    start: datetime
    end: datetime
    read_from: datetime
    read_to: datetime
    run_id: str
    is_backfill: bool


@dataclass(frozen=True)
class Batch:
    platform: str
    kind: str
    window: Window
    records: Sequence[Record]
    rejected: Sequence[Rejected] = ()
    parents: Sequence[str] | None = None
    # When its requests started: a record's `extracted_at` says the platform held it *then*, not when it landed
    # (staging may hold it a while, and a write the sync makes meanwhile must still count as newer).
    fetched_at: datetime | None = None


@dataclass(frozen=True)
class LedgerEntry:
    platform: str
    kind: str
    window: Window
    result: LandResult
    requests: int


class Warehouse:
    """The warehouse's one DuckDB file, reached through short-lived connections (`connect`): a run holds the
    file between two transactions only through a stretch of warehouse work (`held`), never while it waits on a
    platform, so runs in other processes take turns. The first connection of each
    `Warehouse` brings the schema up to date: a digest of the DDL is kept in the file, so a current file costs
    one small read and an old or new one gets the `create_*` statements (all idempotent)."""

    def __init__(self, connect: Connect) -> None:
        self._open = connect
        self._schema_checked = False

    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._open() as con:
            if not self._schema_checked:
                _ensure_schema(con)
                self._schema_checked = True
            yield con

    def connect(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        """One short-lived connection (with DuckDB's lock retries when the resource provides them)."""
        return self._connect()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Keep the file open for a run of warehouse-only steps: the connections the block opens share it (well
        under a millisecond each, against a few for opening the file; `connections.py`), with the same semantics.
        The file stays locked for other processes meanwhile, so never hold it across a platform call that takes
        its time (the send loop lets go around each one that outlasts a short linger: `load/held.py`)."""
        with self._connect():
            yield

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One short-lived connection holding one transaction: committed when the block ends, rolled back if it
        raises (the only place the warehouse begins, commits or rolls back)."""
        with self._connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def ensure_schema(self) -> None:
        """Bring the schema up to date now (otherwise the first connection does)."""
        with self._connect():
            pass

    def land(
        self,
        platform: str,
        kind: str,
        window: Window,
        records: Sequence[Record],
        rejected: Iterable[Rejected] = (),
        parents: Sequence[str] | None = None,
    ) -> LandResult:
        """Land one batch in its own transaction (see `land_batches`)."""
        return self.land_batches([Batch(platform, kind, window, records, list(rejected), parents)])[0]

    def land_batches(self, batches: Sequence[Batch]) -> list[LandResult]:
        """Land several batches in one short transaction: raw versions, current state, quarantine, deletions.

        Opening a DuckDB file costs milliseconds, so extraction stages pages in memory and lands them together.
        A batch's `parents`, for child kinds, lists the parents whose complete child lists it holds.
        """
        now = datetime.now(UTC)
        results = []
        with self.transaction() as con:
            results = [self._land_one(con, batch, now) for batch in batches]
        return results

    def _land_one(self, con: duckdb.DuckDBPyConnection, b: Batch, now: datetime) -> LandResult:
        table = kind_table(b.platform, b.kind)
        unique = {r.record_id: r for r in b.records}  # one row per id: the last version seen in this batch
        rejects = _rejected_frame(b.rejected)
        con.register("batch", _batch_frame(unique.values()))
        con.register("rejected", rejects)
        con.register("parents", pd.DataFrame({"parent_id": pd.Series(list(b.parents or []), dtype=object)}))
        params = {
            "platform": b.platform,
            "kind": b.kind,
            "partition_key": b.window.partition_key,
            "run_id": b.window.run_id,
            "extracted_at": b.fetched_at or now,
        }
        result = LandResult(records=len(unique), quarantined=len(rejects))
        if unique:  # (a child batch may hold none: its parents' lists are empty, which still says something)
            counts = con.execute(load_sql("count_batch_changes").format(table=table.table)).fetchone()
            result.new_records, result.changed = counts or (0, 0)
            result.versions_added = len(con.execute(load_sql("insert_raw_records"), params).fetchall())
            merge = load_sql(table.merge_sql).format(payload_updated=table.payload_updated_sql("payload::JSON"))
            con.execute(merge, _subset(params, "partition_key", "run_id", "extracted_at"))
            con.execute(load_sql("resolve_quarantine"), _subset(params, "platform", "kind", "extracted_at"))
        if len(rejects):
            con.execute(load_sql("insert_quarantine"), params)
        if b.parents:
            sql = load_sql("mark_missing_children").format(table=table.table)
            result.deleted = len(con.execute(sql, {"extracted_at": now}).fetchall())
            con.execute(load_sql("upsert_child_fetches"), _subset(params, "platform", "kind", "extracted_at"))
        for name in ("batch", "rejected", "parents"):
            con.unregister(name)
        return result

    def mark_deleted(self, platform: str, kind: str, record_ids: Sequence[str]) -> None:
        """Mark current records deleted: a re-read by id found them gone (404). A record landed again later (it
        came back, or the 404 was an id never landed) is merged as live as usual."""
        if not record_ids:
            return
        sql = load_sql("mark_contact_deleted").format(table=kind_table(platform, kind).table)
        now = datetime.now(UTC)
        with self.transaction() as con:
            for record_id in record_ids:
                con.execute(sql, {"now": now, "id": record_id})

    def record_windows(self, entries: Sequence[LedgerEntry]) -> None:
        """Mark windows complete, after their records landed (a crash in between only means a redo): one
        statement for all of them (a backfill marks one window per partition and kind)."""
        if not entries:
            return
        finished = datetime.now(UTC)
        last = {(e.platform, e.kind, e.window.partition_key): e for e in entries}  # one row per key per statement
        rows = pd.DataFrame(
            [
                {
                    "platform": e.platform,
                    "kind": e.kind,
                    "partition_key": e.window.partition_key,
                    "window_start": e.window.start,
                    "window_end": e.window.end,
                    "read_from": e.window.read_from,
                    "read_to": e.window.read_to,
                    "run_id": e.window.run_id,
                    "is_backfill": e.window.is_backfill,
                    "records": e.result.records,
                    "new_records": e.result.new_records,
                    "changed": e.result.changed,
                    "quarantined": e.result.quarantined,
                    "requests": e.requests,
                    "finished_at": finished,
                }
                for e in last.values()
            ]
        )
        with self.transaction() as con:
            con.register("ledger_rows", rows)
            con.execute(load_sql("upsert_extract_ledger"))
            con.unregister("ledger_rows")

    def record_window(self, platform: str, kind: str, window: Window, result: LandResult, requests: int) -> None:
        self.record_windows([LedgerEntry(platform, kind, window, result, requests)])

    def get_cursor(self, platform: str, kind: str) -> datetime | None:
        with self._connect() as con:
            row = con.execute(
                "SELECT cursor_at FROM extract_cursors WHERE platform = $platform AND kind = $kind",
                {"platform": platform, "kind": kind},
            ).fetchone()
        return row[0] if row else None

    def advance_cursor(self, platform: str, kind: str, cursor_at: datetime, run_id: str) -> None:
        with self._connect() as con:
            con.execute(
                load_sql("advance_extract_cursor"),
                {
                    "platform": platform,
                    "kind": kind,
                    "cursor_at": cursor_at,
                    "run_id": run_id,
                    "updated_at": datetime.now(UTC),
                },
            )

    def ledger_windows(self, platform: str, kind: str, keys: Sequence[str]) -> dict[str, tuple[datetime, datetime]]:
        """The span each partition's last completed run actually read, by partition key."""
        params = {"platform": platform, "kind": kind, "keys": list(keys)}
        with self._connect() as con:
            rows = con.execute(load_sql("select_extract_ledger_rows"), params).fetchall()
        return {key: (read_from, read_to) for key, read_from, read_to in rows}

    def parents_updated_between(
        self, platform: str, kind: str, spans: Sequence[tuple[datetime, datetime]]
    ) -> list[list[str]]:
        """For each [from, to) span, the parent records (landed or quarantined) last updated inside it, in one
        query for all spans."""
        table = kind_table(platform, kind)
        sql = load_sql("select_parents_updated_between").format(
            table=table.table, updated_column=table.updated_column, payload_updated=table.payload_updated_sql("payload")
        )
        frame = pd.DataFrame(
            {
                "span": pd.Series(range(len(spans)), dtype="int64"),
                "read_from": pd.Series([a for a, _ in spans], dtype="datetime64[us, UTC]"),
                "read_to": pd.Series([b for _, b in spans], dtype="datetime64[us, UTC]"),
            }
        )
        out: list[list[str]] = [[] for _ in spans]
        with self._connect() as con:
            con.register("spans", frame)
            params = {"platform": platform, "kind": kind, "id_pattern": table.id_pattern}
            for span, parent_id in con.execute(sql, params).fetchall():
                out[span].append(parent_id)
            con.unregister("spans")
        return out

    def sweep_parents(self, platform: str, parent_kind: str, child_kind: str, limit: int) -> list[str]:
        """Up to `limit` parents whose `child_kind` lists were refreshed longest ago (never fetched first)."""
        if limit <= 0:
            return []
        sql = load_sql("select_sweep_parents").format(table=kind_table(platform, parent_kind).table)
        with self._connect() as con:
            rows = con.execute(sql, {"platform": platform, "kind": child_kind, "limit": limit}).fetchall()
        return [r[0] for r in rows]

    def mark_missing_contacts(self, platform: str, listed: Collection[str], started: datetime) -> int:
        """A full listing of `platform`'s contacts, begun at `started`, did not contain these landed contacts: mark
        them deleted; returns how many. An empty listing while contacts are landed is refused (EmptyListing), in
        the same transaction: a broken listing looks like that, a platform emptied overnight does not."""
        table = kind_table(platform, "contacts").table
        with self.transaction() as con:
            ((landed,),) = con.execute(load_sql("count_current_records").format(table=table)).fetchall()
            if landed and not listed:
                raise EmptyListing(
                    f"{platform}: the full listing returned no contacts; refusing to mark {landed} deleted"
                )
            con.register("seen_ids", pd.DataFrame({"id": sorted(listed)}, dtype=object))
            params = {"now": started, "started": started}
            return len(con.execute(load_sql("mark_missing_contacts").format(table=table), params).fetchall())

    def landed_counts(self, platform: str) -> dict[str, tuple[int, int, int]]:
        """kind → (current records, records held in quarantine, raw versions) for one platform."""
        out = {}
        with self._connect() as con:
            held = dict(con.execute(load_sql("count_quarantined_by_kind"), {"platform": platform}).fetchall())
            sql = "SELECT kind, count(*) FROM raw_records WHERE platform = $platform GROUP BY kind"
            versions = dict(con.execute(sql, {"platform": platform}).fetchall())
            for (p, kind), table in KINDS.items():
                if p != platform:
                    continue
                row = con.execute(load_sql("count_current_records").format(table=table.table)).fetchone()
                out[kind] = (row[0] if row else 0, held.get(kind, 0), versions.get(kind, 0))
        return out

    def table_facts(self, table: str) -> tuple[list[tuple[str, str, bool]], int]:
        """A table's (column, type, nullable) list and its row count, for the catalog. `table` comes from the
        fixed registry or a schema file, never from data."""
        with self._connect() as con:
            columns = con.execute(load_sql("select_table_columns"), {"table": table}).fetchall()
            (rows,) = con.execute(load_sql("count_rows").format(table=table)).fetchone() or (0,)
        return [(c, t, bool(n)) for c, t, n in columns], int(rows)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Read-only helper for summaries and tests."""
        with self._connect() as con:
            return con.execute(sql, dict(params or {})).fetchall()

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Read rows by column name (the query's aliases), never by position."""
        with self._connect() as con:
            return named_rows(con.execute(sql, dict(params or {})))


@functools.cache
def _schema_digest() -> str:
    return hashlib.sha256("\n;\n".join(create_statements()).encode()).hexdigest()


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    digest = _schema_digest()
    known = con.execute(load_sql("count_schema_state")).fetchone() == (1,)
    if known and con.execute(load_sql("select_schema_digest")).fetchall() == [(digest,)]:
        return
    for statement in create_statements():  # each idempotent: a crash half-way is finished by the next open
        con.execute(statement)
    con.execute(load_sql("replace_schema_digest"), {"digest": digest})


def named_rows(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """An executed statement's rows as column name → value."""
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _subset(params: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: params[k] for k in keys}


def _batch_frame(records: Iterable[Record]) -> pd.DataFrame:
    rows = []
    for r in records:
        body = canonical_json(r.payload)
        rows.append((r.record_id, r.parent_id, body, payload_hash(body)))
    return pd.DataFrame(rows, columns=["record_id", "parent_id", "payload", "payload_hash"], dtype=object)


def _rejected_frame(rejected: Iterable[Rejected]) -> pd.DataFrame:
    rows = []
    for r in rejected:
        body = canonical_json(r.payload)
        rows.append((r.record_id, r.reason, body, payload_hash(body)))
    return pd.DataFrame(rows, columns=["record_id", "reason", "payload", "payload_hash"], dtype=object)
