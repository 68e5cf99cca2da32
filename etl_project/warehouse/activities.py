"""The activity outbox (flows 3, 5, 6): facts for planning, plan storage and the executor's bookkeeping."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from etl_project.sync.activities import ActivityOp, AppointmentFacts, NoteFacts, OrderFacts, WelcomeFacts
from etl_project.warehouse.outbox import log_event
from etl_project.warehouse.sql import load_sql
from etl_project.warehouse.store import Warehouse
from etl_project.warehouse.tables import kind_table
from etl_project.warehouse.task_pairs import TASK_FLOW, record_task_write


@dataclass(frozen=True)
class PendingActivity:
    key: str
    flow: str
    operation: str
    person_id: str
    source_ref: str
    payload: dict[str, Any]
    status: str
    attempts: int


@dataclass(frozen=True)
class ActivityOutbox:
    warehouse: Warehouse

    # -- facts -----------------------------------------------------------------------------------------------
    def purchase_facts(self) -> list[OrderFacts]:
        names = dict(self.warehouse.query("SELECT id, name FROM sendowl_products"))
        return [
            OrderFacts(
                str(oid),
                person,
                state or "",
                bool(refunded),
                [names.get(p, f"product {p}") for p in products or []],
                amount,
                currency,
                created,
                tag,
                hl_id,
            )
            for oid, person, state, refunded, products, amount, currency, created, tag, hl_id in self.warehouse.query(
                load_sql("select_purchase_facts")
            )
            if created is not None
        ]

    def note_facts(self) -> list[NoteFacts]:
        return [NoteFacts(*row) for row in self.warehouse.query(load_sql("select_note_facts"))]

    def appointment_facts(self) -> list[AppointmentFacts]:
        return [AppointmentFacts(*row) for row in self.warehouse.query(load_sql("select_appointment_facts"))]

    def welcome_facts(self) -> list[WelcomeFacts]:
        """New people since the welcome flow was first switched on (that first run only sets the baseline)."""
        flow = {"flow": "welcome_message"}
        with self.warehouse.connect() as con:
            con.execute(
                "INSERT INTO flow_state VALUES ($flow, $now) ON CONFLICT (flow) DO NOTHING",
                {**flow, "now": datetime.now(UTC)},
            )
            (started,) = con.execute("SELECT started_at FROM flow_state WHERE flow = $flow", flow).fetchone() or (None,)
            rows = con.execute(load_sql("select_welcome_candidates"), {"started_at": started}).fetchall()
        return [WelcomeFacts(person, phone) for person, phone in rows]

    def parent_id(self, platform: str, person: str) -> str | None:
        """The person's live contact on the platform, if there is one."""
        found, deleted = self.parent(platform, person)
        return None if deleted else found

    def parent(self, platform: str, person: str) -> tuple[str | None, bool]:
        """(contact id, deleted): the person's live contact, else the linked one that was deleted on the platform
        (deleted = True), else (None, False): not on the platform (yet)."""
        sql = load_sql("select_parent_record").format(table=kind_table(platform, "contacts").table)
        rows = self.warehouse.query(sql, {"platform": platform, "person": person})
        return (str(rows[0][0]), bool(rows[0][1])) if rows else (None, False)

    # -- plan --------------------------------------------------------------------------------------------------
    def store(self, ops: Sequence[ActivityOp], run_id: str, dry_run: bool) -> list[tuple[str, str, str, str, str]]:
        """Insert the operations not stored yet (each key once, ever); log the new ones. Returns the new rows."""
        frame = pd.DataFrame(
            [(o.key, o.flow, o.platform, o.operation, o.person_id, o.source_ref, json.dumps(o.payload)) for o in ops],
            columns=["idempotency_key", "flow", "platform", "operation", "person_id", "source_ref", "payload"],
            dtype=object,
        )
        now = datetime.now(UTC)
        with self.warehouse.transaction() as con:
            con.register("planned", frame)
            if dry_run:
                known = {k for (k,) in con.execute("SELECT idempotency_key FROM activity_outbox").fetchall()}
                new = [(o.key, o.platform, o.person_id, o.operation, o.flow) for o in ops if o.key not in known]
            else:
                new = con.execute(load_sql("insert_activity_planned"), {"run_id": run_id, "now": now}).fetchall()
            if new:
                params = {"run_id": run_id, "now": now, "status": "dry_run" if dry_run else "planned"}
                con.execute(load_sql("insert_activity_log_planned"), {**params, "entered": [row[0] for row in new]})
        return [tuple(r) for r in new]  # type: ignore[misc]

    # -- execute -----------------------------------------------------------------------------------------------
    def pending(self, platform: str, max_attempts: int) -> list[PendingActivity]:
        rows = self.warehouse.query(
            load_sql("select_activity_pending"), {"platform": platform, "max_attempts": max_attempts}
        )
        return [
            PendingActivity(key, flow, op, person, ref, json.loads(payload), status, attempts)
            for key, flow, op, person, ref, payload, status, attempts in rows
        ]

    def mark_sent(self, key: str, run_id: str, parent_id: str) -> None:
        with self.warehouse.connect() as con:
            params = {"key": key, "run_id": run_id, "parent_id": parent_id, "now": datetime.now(UTC)}
            con.execute(load_sql("mark_activity_sent"), params)

    def result(
        self,
        platform: str,
        row: PendingActivity,
        run_id: str,
        status: str,
        parent_id: str | None,
        result_id: str | None = None,
        error: str | None = None,
    ) -> None:
        now = datetime.now(UTC)
        with self.warehouse.transaction() as con:
            params = {"key": row.key, "status": status, "result_id": result_id, "error": error, "now": now}
            con.execute(load_sql("mark_activity_result"), params)
            if status == "acknowledged" and row.flow == TASK_FLOW:
                record_task_write(con, platform, row.operation, row.source_ref, row.payload, result_id, parent_id)
            log_event(con, run_id, platform, row.person_id, parent_id, row.operation, [], status, error, row.key)
