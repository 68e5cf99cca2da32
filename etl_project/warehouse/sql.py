"""Load the warehouse's SQL files by name: verb_object.sql, in sql/ beside this module, one folder per stage.

sql/schema/      the DDL (`create_*`, each idempotent) and the schema's own bookkeeping
sql/extract/     landing batches: raw versions, current state, quarantine, the window ledger, cursors, deletions
sql/reconcile/   identity links, golden records, the values each platform holds
sql/writeback/   the plan, the outbox, the sync log, target snapshots
sql/activities/  flows 3 to 6: their facts, their outbox, flow 4's task pairs
sql/operations/  the blocking checks, the mass-change guard's approvals, health checks, alerts

A name is unique across the folders, so callers name a file without its folder; a missing or repeated name fails
loudly on first use.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

SQL_ROOT = "sql"


@cache
def _index() -> dict[str, Traversable]:
    found: dict[str, list[tuple[str, Traversable]]] = {}
    for folder in resources.files("etl_project.warehouse").joinpath(SQL_ROOT).iterdir():
        if not folder.is_dir() or folder.name.startswith(("_", ".")):
            continue
        for f in folder.iterdir():
            if f.name.endswith(".sql"):
                found.setdefault(f.name[: -len(".sql")], []).append((folder.name, f))
    repeated = {name: sorted(f"{d}/{name}.sql" for d, _ in fs) for name, fs in found.items() if len(fs) > 1}
    if repeated:
        raise LookupError(f"SQL file names must be unique across the folders of warehouse/sql/: {repeated}")
    return {name: fs[0][1] for name, fs in found.items()}


@cache
def load_sql(name: str) -> str:
    try:
        return _index()[name].read_text()
    except KeyError:
        raise LookupError(f"no SQL file {name}.sql in any folder of etl_project/warehouse/sql/") from None


def create_statements() -> list[str]:
    """Every `create_*` file's DDL, in file-name order (whatever its folder), so the schema digest is stable."""
    return [load_sql(name) for name in sorted(_index()) if name.startswith("create_")]
