"""Flow 4's state in DuckDB: each task pair's merge base and the sync's latest write to each side.

A side the sync wrote to and that has not been extracted since is taken to hold what was written (the extraction
is older than the write); as soon as it is extracted again, the extraction is the truth.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from etl_project.sync.tasks import TaskFacts, TaskSide
from etl_project.warehouse.outbox import log_event
from etl_project.warehouse.sql import load_sql
from etl_project.warehouse.store import Warehouse

TASK_FLOW = "highlevel_tasks_to_sendapp"


def iso_utc(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _values(written: Any) -> dict[str, Any]:
    """A JSON column as DuckDB hands it back (text)."""
    return dict(json.loads(written) if isinstance(written, str) else written)


def _overlay(side: TaskSide, written: Any, written_at: datetime | None, extracted_at: datetime | None) -> TaskSide:
    """The side as the sync left it, when its last extraction predates the sync's write."""
    if written is None or written_at is None or (extracted_at is not None and extracted_at >= written_at):
        return side
    return side.with_values(_values(written))


def task_facts(warehouse: Warehouse) -> list[TaskFacts]:
    out = []
    for r in warehouse.query(load_sql("select_task_facts")):
        (task_id, person, contact, title, due, done, hl_extracted, hl_changed, twin, twin_contact) = r[:10]
        (seen, sa_title, sa_due, sa_done, sa_updated, sa_extracted) = r[10:16]
        (paired, b_title, b_due, b_done, generation, hl_written, hl_written_at, sa_written, sa_written_at) = r[16:]
        highlevel = _overlay(TaskSide(title or "", iso_utc(due), bool(done)), hl_written, hl_written_at, hl_extracted)
        sendapp = None
        if seen:
            sendapp = TaskSide(sa_title or "", iso_utc(sa_due), bool(sa_done))
            sendapp = _overlay(sendapp, sa_written, sa_written_at, sa_extracted)
        out.append(
            TaskFacts(
                str(task_id),
                person,
                str(contact),
                highlevel,
                hl_changed,
                _text(twin),
                _text(twin_contact),
                sendapp,
                sa_updated,
                TaskSide(b_title or "", b_due, bool(b_done)) if paired else None,
                int(generation),
            )
        )
    return out


def _upsert(con: Any, hl_task: str, sa_task: str, sa_contact: str, base: TaskSide, **written: Any) -> None:
    params = {
        "hl_task": hl_task,
        "sa_task": sa_task,
        "sa_contact": sa_contact,
        "title": base.title,
        "due": base.due,
        "done": base.done,
        "hl_written": None,
        "hl_written_at": None,
        "sa_written": None,
        "sa_written_at": None,
        "now": datetime.now(UTC),
        **written,
    }
    con.execute(load_sql("upsert_task_pair"), params)


def store_agreements(warehouse: Warehouse, agreements: Sequence[tuple[TaskFacts, TaskSide]]) -> int:
    """Record the values both sides of a pair now agree on (a new base, a new generation)."""
    if not agreements:
        return 0
    with warehouse.transaction() as con:
        for t, base in agreements:
            assert t.sendapp_task_id is not None and t.sendapp_contact_id is not None
            _upsert(con, t.task_id, t.sendapp_task_id, t.sendapp_contact_id, base)
    return len(agreements)


def record_task_write(
    con: Any,
    platform: str,
    operation: str,
    pair: str,
    payload: dict[str, Any],
    result_id: str | None,
    parent_id: str | None,
) -> None:
    """Inside the acknowledging transaction: a twin made, or a side updated, moves the pair's base with it."""
    now = datetime.now(UTC)
    if operation == "create_task" and platform == "sendapp" and result_id and parent_id:
        done = payload.get("status") == "done"
        base = TaskSide(payload.get("title") or "", payload.get("due_at"), done)
        written = json.dumps({"title": base.title, "due": base.due, "status": done})
        _upsert(con, pair, result_id, parent_id, base, sa_written=written, sa_written_at=now)
        return
    sets = payload.get("sets") or ({"status": True} if operation == "complete_task" else {})
    row = con.execute(load_sql("select_task_pair"), {"hl_task": pair}).fetchone()
    if row is None or not sets:
        return  # a pair from before bases were kept: its next plan records one
    sa_task, sa_contact, title, due, done, hl_written, hl_at, sa_written, sa_at, hl_extracted, sa_extracted = row
    base = TaskSide(title or "", due, bool(done)).with_values(sets)
    side_written, side_at, side_extracted = (
        (hl_written, hl_at, hl_extracted) if platform == "highlevel" else (sa_written, sa_at, sa_extracted)
    )
    pending: dict[str, Any] = {}
    if side_written is not None and side_at is not None and (side_extracted is None or side_extracted < side_at):
        pending = _values(side_written)
    written = json.dumps({**pending, **sets})
    if platform == "highlevel":
        _upsert(con, pair, sa_task, sa_contact, base, hl_written=written, hl_written_at=now)
    else:
        _upsert(con, pair, sa_task, sa_contact, base, sa_written=written, sa_written_at=now)


def supersede_task_updates(warehouse: Warehouse, considered: Sequence[tuple[str, str | None]], run_id: str) -> int:
    """Pending pair updates the new plan replaces (`considered`: each merged pair with each key planned for it)."""
    if not considered:
        return 0
    frame = pd.DataFrame(list(considered), columns=["source_ref", "idempotency_key"], dtype=object)
    with warehouse.transaction() as con:
        con.register("considered", frame)
        rows = con.execute(load_sql("supersede_task_updates"), {"now": datetime.now(UTC)}).fetchall()
        for key, platform, person, operation in rows:
            log_event(con, run_id, platform, person, None, operation, [], "superseded", None, key)
    return len(rows)


def paired_sendapp_tasks(warehouse: Warehouse) -> set[str]:
    return {str(task) for (task,) in warehouse.query(load_sql("select_paired_sendapp_tasks"))}
