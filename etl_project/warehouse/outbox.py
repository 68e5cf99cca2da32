"""The outbox, target snapshots and sync log: planning reads, plan storage, and the executor's bookkeeping.

Every write is one short transaction; no connection is held across an HTTP call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from etl_project.platforms.fields import iso_utc
from etl_project.sync.plan import Operation, TargetState, canonical
from etl_project.sync.sources import GOLDEN_FIELDS
from etl_project.warehouse.sql import load_sql
from etl_project.warehouse.store import Warehouse
from etl_project.warehouse.tables import kind_table

GOLDEN_COLUMNS = GOLDEN_FIELDS  # golden_contacts has a column per golden field, under its name
PLAN_COLUMNS = (
    "idempotency_key",
    "platform",
    "operation",
    "person_id",
    "target_id",
    "fields",
    "payload",
    "expected",
    "fields_changed",
)


@dataclass(frozen=True)
class PendingRow:
    key: str
    operation: str
    person_id: str
    target_id: str | None
    payload: dict[str, Any]
    expected: dict[str, Any]
    fields: dict[str, Any]
    attempts: int
    needs_lookup: bool
    first_sent_at: datetime | None


def _values(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A row's golden fields (columns `<prefix><field>`), without the empty ones; tags as a set."""
    values = {field: row[prefix + field] for field in GOLDEN_COLUMNS}
    values["tags"] = frozenset(values["tags"] or [])
    return {k: v for k, v in values.items() if v not in (None, "", frozenset())}


def plan_frame(operations: Sequence[Operation], expected: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """A plan as `store_plan` takes it: one row per operation, its values as JSON; `expected` maps each
    operation's idempotency key to the target's values once it is acknowledged (`sync.plan.expected_after`)."""
    rows = [
        (
            o.idempotency_key,
            o.platform,
            o.kind,
            o.person_id,
            o.target_id,
            json.dumps(o.fields, default=str),
            json.dumps(o.payload, default=str),
            json.dumps(expected[o.idempotency_key], default=str),
            json.dumps(sorted(o.fields)),
        )
        for o in operations
    ]
    return pd.DataFrame(rows, columns=list(PLAN_COLUMNS), dtype=object)


@dataclass(frozen=True)
class Outbox:
    warehouse: Warehouse

    # -- planning --------------------------------------------------------------------------------------------
    def plan_candidates(
        self, platform: str, *, can_create: bool, needs_phone: bool
    ) -> tuple[dict[str, dict[str, Any]], dict[str, TargetState]]:
        """Golden records and target states of the people whose record on `platform` may need a write."""
        sql = load_sql("select_plan_candidates").format(table=kind_table(platform, "contacts").table)
        params = {"platform": platform, "can_create": can_create, "needs_phone": needs_phone}
        golden, states = {}, {}
        for row in self.warehouse.rows(sql, params):
            person = row["person_id"]
            golden[person] = _values(row)
            states[person] = TargetState(
                target_id=row["platform_id"],
                acked=json.loads(row["acked"]) if row["acked"] else {},
                acked_version=row["target_version"],
                observed=_values(row, prefix="v_") if row["observed"] else None,
                observed_version=row["version"],
                target_deleted=bool(row["target_deleted"]),
                upstream_deleted=bool(row["upstream_deleted"]),
                key_taken=bool(row["key_taken"]),
            )
        return golden, states

    def buyers(self, states: Sequence[str]) -> list[str]:
        """People with a SendOwl order in a state that makes them a customer (flow 3 creates them in HighLevel)."""
        return [p for (p,) in self.warehouse.query(load_sql("select_buyers"), {"states": list(states)})]

    def store_plan(self, platform: str, planned: pd.DataFrame, run_id: str, dry_run: bool) -> tuple[int, int]:
        """Store the plan (a `plan_frame`; each key once), supersede pending rows it no longer needs, and log both.

        Returns (new rows, superseded rows). In dry-run mode nothing enters or leaves the outbox; the log says
        what would be done, with status `dry_run`.
        """
        now = datetime.now(UTC)
        new = superseded = 0
        with self.warehouse.transaction() as con:
            con.register("planned", planned)
            entered: list[str] = []
            if not dry_run:
                if len(planned):
                    rows = con.execute(load_sql("insert_outbox_planned"), {"run_id": run_id, "now": now})
                    entered = [key for (key,) in rows.fetchall()]
                    new = len(entered)
                gone = con.execute(load_sql("supersede_outbox"), {"platform": platform, "now": now}).fetchall()
                superseded = len(gone)
                for key, person, target_id, operation in gone:
                    log_event(con, run_id, platform, person, target_id, operation, [], "superseded", None, key)
            if len(planned):
                status = "dry_run" if dry_run else "planned"
                # logged once, when the row enters (a row already stored, even dead, is not planned again)
                params = {"run_id": run_id, "now": now, "status": status, "dry_run": dry_run, "entered": entered}
                con.execute(load_sql("insert_sync_log_planned"), params)
        return new, superseded

    # -- executing -------------------------------------------------------------------------------------------
    def pending(self, platform: str, max_attempts: int) -> list[PendingRow]:
        with self.warehouse.connect() as con:
            rows = con.execute(
                load_sql("select_outbox_pending"), {"platform": platform, "max_attempts": max_attempts}
            ).fetchall()
        return [
            PendingRow(key, op, person, target, json.loads(payload), json.loads(expected), json.loads(fields), n, lk, t)
            for key, op, person, target, payload, expected, fields, n, lk, t in rows
        ]

    def mark_sent(self, key: str, run_id: str) -> None:
        with self.warehouse.connect() as con:
            con.execute(load_sql("mark_outbox_sent"), {"key": key, "run_id": run_id, "now": datetime.now(UTC)})

    def acknowledge(
        self,
        platform: str,
        row: PendingRow,
        run_id: str,
        target_id: str | None,
        target_version: datetime | None,
        *,
        created: bool = False,
    ) -> None:
        """The target applied the row: mark it, advance the snapshot, link a created record, log — atomically."""
        now = datetime.now(UTC)
        with self.warehouse.transaction() as con:
            result = {"key": row.key, "status": "acknowledged", "target_id": target_id, "error": None, "now": now}
            con.execute(load_sql("mark_outbox_result"), result)
            if row.operation == "delete":
                con.execute(
                    "DELETE FROM target_snapshots WHERE platform = $platform AND person_id = $person",
                    {"platform": platform, "person": row.person_id},
                )
                table = kind_table(platform, "contacts").table
                con.execute(load_sql("mark_contact_deleted").format(table=table), {"now": now, "id": target_id})
            else:
                at = iso_utc(target_version, timespec="auto") if target_version else None
                snapshot = {
                    "platform": platform,
                    "person_id": row.person_id,
                    "target_id": target_id,
                    "fields": json.dumps({k: canonical(v) for k, v in row.expected.items()}, sort_keys=True),
                    "target_version": target_version,
                    "now": now,
                    # per field this write sent: what it wrote and when (the target's time), kept per field
                    "written_values": json.dumps({k: [canonical(row.expected.get(k)), at] for k in row.fields}),
                }
                con.execute(load_sql("upsert_target_snapshot"), snapshot)
            if created and target_id is not None:
                link = {"platform": platform, "platform_id": target_id, "person_id": row.person_id, "now": now}
                con.execute(load_sql("insert_created_link"), link)
            log_event(
                con,
                run_id,
                platform,
                row.person_id,
                target_id,
                row.operation,
                sorted(row.fields),
                "acknowledged",
                None,
                row.key,
            )

    def fail(self, platform: str, row: PendingRow, run_id: str, error: str, *, final: bool) -> None:
        now = datetime.now(UTC)
        status = "dead" if final else "failed"
        with self.warehouse.transaction() as con:
            params = {"key": row.key, "status": status, "target_id": None, "error": error, "now": now}
            con.execute(load_sql("mark_outbox_result"), params)
            log_event(
                con,
                run_id,
                platform,
                row.person_id,
                row.target_id,
                row.operation,
                sorted(row.fields),
                status,
                error,
                row.key,
            )

    # -- reporting -------------------------------------------------------------------------------------------
    def run_log(self, run_id: str, platform: str) -> list[tuple[Any, ...]]:
        """This run's log rows for one target: (operation, status, person, target id, fields, error)."""
        return self.warehouse.query(load_sql("select_run_log"), {"run_id": run_id, "platform": platform})


def log_event(
    con: Any,
    run_id: str,
    platform: str,
    person: str,
    target_id: str | None,
    operation: str,
    fields: list[str],
    status: str,
    error: str | None,
    key: str,
) -> None:
    """One `sync_log` row, inside the caller's transaction (contact and activity outboxes alike)."""
    params: Mapping[str, Any] = {
        "run_id": run_id,
        "platform": platform,
        "person_id": person,
        "target_id": target_id,
        "operation": operation,
        "fields_changed": fields,
        "status": status,
        "error": error,
        "key": key,
        "now": datetime.now(UTC),
    }
    con.execute(load_sql("insert_sync_log_event"), params)
