"""Planning one target's changeset on a temp DuckDB: candidates → operations → the outbox, as the asset does it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl_project.load.changeset import plan_changeset
from etl_project.sync.config import SyncConfig, load_config
from etl_project.warehouse.outbox import Outbox
from etl_project.warehouse.store import Warehouse
from etl_tests.bad_input_helpers import make_warehouse

NOW = "TIMESTAMPTZ '2026-11-01 00:00:00+00'"
SEED = [
    # p1 is new (SendApp creates it: it has a number), p2 has no number, p3 is on SendApp under an older first name
    f"""INSERT INTO golden_contacts VALUES
        ('p1', 'ann@x.io', '+12125550101', 'Ann', NULL, NULL, ['highlevel'], '{{}}', {NOW}),
        ('p2', 'bob@x.io', NULL, 'Bob', NULL, NULL, ['highlevel'], '{{}}', {NOW}),
        ('p3', 'cy@x.io', '+12125550103', 'Cyril', NULL, NULL, ['highlevel', 'sendapp'], '{{}}', {NOW})""",
    f"INSERT INTO identity_links VALUES ('sendapp', '12125550103', 'p3', 'phone', {NOW})",
    f"""INSERT INTO target_snapshots VALUES ('sendapp', 'p3', '12125550103',
        '{{"email": "cy@x.io", "first_name": "Cy", "phone": "+12125550103"}}', {NOW}, {NOW}, NULL)""",
]


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    with warehouse.connect() as con:
        for statement in SEED:
            con.execute(statement)
    return Outbox(warehouse)


def _stored(warehouse: Warehouse) -> dict[str, tuple[str, str, dict[str, object]]]:
    rows = warehouse.query("SELECT person_id, operation, status, expected FROM outbox ORDER BY planned_at")
    return {person: (operation, status, json.loads(expected)) for person, operation, status, expected in rows}


def test_a_changeset_stores_each_operation_once_with_the_record_expected_after_it(outbox: Outbox) -> None:
    config = load_config()
    first = plan_changeset(outbox, "sendapp", config, "run-1")
    assert (first.skipped, first.by_kind(), first.candidates) == (None, {"create": 1, "update": 1, "delete": 0}, 2)
    assert [o.person_id for o in first.operations] == ["p1", "p3"], "p2 has no number, which SendApp needs"
    assert (first.new_in_outbox, first.superseded, first.blocked_creates) == (2, 0, 0)
    assert _stored(outbox.warehouse) == {
        "p1": ("create", "planned", {"email": "ann@x.io", "phone": "+12125550101", "first_name": "Ann"}),
        "p3": ("update", "planned", {"email": "cy@x.io", "phone": "+12125550103", "first_name": "Cyril"}),
    }, "expected: the acknowledged record with the update applied"

    again = plan_changeset(outbox, "sendapp", config, "run-2")
    assert again.operations == first.operations and (again.new_in_outbox, again.superseded) == (0, 0)

    with outbox.warehouse.connect() as con:  # the golden name moves on before the update was sent
        con.execute("UPDATE golden_contacts SET first_name = 'Cyrus' WHERE person_id = 'p3'")
    moved = plan_changeset(outbox, "sendapp", config, "run-3")
    assert (moved.new_in_outbox, moved.superseded) == (1, 1), "the stale update is superseded by the new one"
    statuses = outbox.warehouse.query("SELECT status, count(*) FROM outbox GROUP BY ALL ORDER BY 1")
    assert statuses == [("planned", 2), ("superseded", 1)]


def test_update_only_off_and_dry_run_targets(outbox: Outbox) -> None:
    config = load_config()
    highlevel = plan_changeset(outbox, "highlevel", config, "run-1")
    assert highlevel.skipped is None and highlevel.operations == (), "update-only: nobody there to update"
    off = config.model_copy(update={"flows": config.flows.model_copy(update={"highlevel_contacts_to_sendapp": False})})
    assert plan_changeset(outbox, "sendapp", off, "run-1").skipped == "flow off or no target configured"
    dry: SyncConfig = config.model_copy(update={"dry_run": True})
    planned = plan_changeset(outbox, "sendapp", dry, "run-1")
    assert len(planned.operations) == 2 and planned.new_in_outbox == 0 and _stored(outbox.warehouse) == {}
    logged = outbox.warehouse.query("SELECT status, count(*) FROM sync_log GROUP BY ALL")
    assert logged == [("dry_run", 2)], "dry run: logged, not stored"
