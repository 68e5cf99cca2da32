"""Flow 4's state in DuckDB: each task pair's merge base and the sync's latest write to each side.

Storage only: the rule for a side the sync wrote to and has not extracted since is `sync.tasks.unextracted_write`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from etl_project.sync.tasks import TaskFacts, TaskSide, unextracted_write
from etl_project.warehouse.outbox import log_event
from etl_project.warehouse.sql import load_sql
from etl_project.warehouse.store import Warehouse, named_rows

TASK_FLOW = "highlevel_tasks_to_sendapp"


def iso_utc(value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _json(value: Any) -> dict[str, Any] | None:
    """A JSON column as DuckDB hands it back (text), or None."""
    if value is None:
        return None
    return dict(json.loads(value) if isinstance(value, str) else value)


def _side(title: Any, due: Any, done: Any, written: Any, written_at: Any, extracted_at: Any) -> TaskSide:
    """One side as the sync left it: its extraction, with a write made since laid over it."""
    side = TaskSide(title or "", iso_utc(due), bool(done))
    return side.with_values(unextracted_write(_json(written), written_at, extracted_at))


def task_facts(warehouse: Warehouse) -> list[TaskFacts]:
    out = []
    for r in warehouse.rows(load_sql("select_task_facts")):
        highlevel = _side(r["title"], r["due"], r["done"], r["hl_written"], r["hl_written_at"], r["hl_extracted"])
        sendapp = None
        if r["twin_seen"]:
            sendapp = _side(
                r["sa_title"], r["sa_due"], r["sa_done"], r["sa_written"], r["sa_written_at"], r["sa_extracted"]
            )
        base = TaskSide(r["base_title"] or "", r["base_due"], bool(r["base_done"])) if r["paired"] else None
        out.append(
            TaskFacts(
                str(r["task_id"]),
                r["person_id"],
                str(r["contact_id"]),
                highlevel,
                r["hl_changed"],
                _text(r["twin"]),
                _text(r["twin_contact"]),
                sendapp,
                r["sa_updated"],
                base,
                int(r["generation"]),
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
    sets = payload.get("sets") or {}
    rows = named_rows(con.execute(load_sql("select_task_pair"), {"hl_task": pair}))
    if not rows or not sets:
        return  # updates are planned only for a recorded pair; a write that sets nothing moves nothing
    (r,) = rows
    base = TaskSide(r["title"] or "", r["due"], bool(r["done"])).with_values(sets)
    side = "hl" if platform == "highlevel" else "sa"
    pending = unextracted_write(_json(r[f"{side}_written"]), r[f"{side}_written_at"], r[f"{side}_extracted"])
    written = json.dumps({**pending, **sets})
    _upsert(con, pair, r["sa_task"], r["sa_contact"], base, **{f"{side}_written": written, f"{side}_written_at": now})


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
