"""Storage of the mass-change guard: what a target is about to change, and the causes a person approved."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from etl_project.warehouse.sql import load_sql
from etl_project.warehouse.store import Warehouse
from etl_project.warehouse.tables import kind_table


@dataclass(frozen=True)
class PendingChanges:
    """A target's pending updates (the fields each one changes) and deletes (their keys), and its live records."""

    updates: list[frozenset[str]]
    deletes: list[str]
    records: int


def pending_changes(warehouse: Warehouse, platform: str) -> PendingChanges:
    rows = warehouse.query(load_sql("select_pending_mass_changes"), {"platform": platform})
    table = kind_table(platform, "contacts").table
    (records,) = warehouse.query(load_sql("count_current_records").format(table=table))[0]
    updates = [frozenset(json.loads(fields)) for op, _key, fields in rows if op == "update"]
    deletes = [key for op, key, _fields in rows if op == "delete"]
    return PendingChanges(updates, deletes, int(records))


def approved_causes(warehouse: Warehouse, platform: str, config: str) -> set[str]:
    rows = warehouse.query(
        "SELECT cause FROM guard_approvals WHERE platform = $platform AND config = $config",
        {"platform": platform, "config": config},
    )
    return {r[0] for r in rows}


def approve(warehouse: Warehouse, platform: str, causes: Iterable[str], config: str, run_id: str, message: str) -> None:
    now = datetime.now(UTC)
    with warehouse.connect() as con:
        for cause in causes:
            params = {"platform": platform, "cause": cause, "config": config, "run_id": run_id, "message": message}
            con.execute(load_sql("insert_guard_approval"), {**params, "now": now})


def record_block(
    warehouse: Warehouse, platform: str, approval: str, causes: Iterable[str], config: str, message: str
) -> None:
    params = {"approval": approval, "platform": platform, "config": config, "causes": list(causes)}
    with warehouse.connect() as con:
        con.execute(load_sql("insert_guard_block"), {**params, "message": message, "now": datetime.now(UTC)})


def blocked_causes(warehouse: Warehouse, platform: str, config: str) -> dict[str, list[str]]:
    """Every approval id asked for on this target under this configuration, with the causes it stands for."""
    rows = warehouse.query(
        "SELECT approval, causes FROM guard_blocks WHERE platform = $platform AND config = $config",
        {"platform": platform, "config": config},
    )
    return {approval: list(causes) for approval, causes in rows}
