"""The activity executor on a real DuckDB warehouse, without Dagster: what happens to writes whose contact is gone.

A user deleted the person's contact on the platform, and the target does not bring deleted records back (every
mode but mirror): the pending writes end `skipped` with the reason, instead of waiting forever. In mirror mode the
sync re-creates the contact, so they wait for it. No platform is called either way (the writer has no client)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from etl_project.load.activities import execute_activities
from etl_project.load.activity_writers import HighLevelActivityWriter
from etl_project.sync.activities import make_op
from etl_project.sync.config import WelcomeFlow
from etl_project.warehouse.activities import ActivityOutbox
from etl_tests.bad_input_helpers import make_warehouse

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _outbox(tmp_path: Path, deleted: bool) -> ActivityOutbox:
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    with warehouse.connect() as con:
        con.execute("INSERT INTO identity_links VALUES ('highlevel', 'hl-1', 'p-1', 'email', ?)", [NOW])
        con.execute(
            "INSERT INTO ghl_contacts (id, payload, payload_hash, extracted_at, is_deleted) VALUES "
            "('hl-1', '{}', 'h', ?, ?)",
            [NOW, deleted],
        )
    outbox = ActivityOutbox(warehouse)
    ops = [
        make_op("sendowl_purchases_to_highlevel", "highlevel", "add_tags", "p-1", "o-1", {"tags": ["x"]}, "sale"),
        make_op("sendowl_purchases_to_highlevel", "highlevel", "create_note", "p-1", "o-1", {"body": "b"}, "sale"),
    ]
    outbox.store(ops, "plan-run", dry_run=False)
    return outbox


def _unreachable() -> HighLevelActivityWriter:
    """A writer whose client is never called (there is none)."""
    return HighLevelActivityWriter(None)  # type: ignore[arg-type]


def _statuses(outbox: ActivityOutbox) -> list[tuple[str, str | None]]:
    return [(str(s), e) for s, e in outbox.warehouse.query("SELECT status, last_error FROM activity_outbox ORDER BY 1")]


def test_writes_for_a_contact_deleted_on_the_platform_end_skipped_with_the_reason(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, deleted=True)
    report = execute_activities(outbox, _unreachable(), "run-1", 5, WelcomeFlow())
    assert report.skipped == 2 and report.waiting == 0
    statuses = _statuses(outbox)
    assert [s for s, _ in statuses] == ["skipped", "skipped"]
    assert all("contact hl-1 was deleted there" in (e or "") for _, e in statuses)
    assert outbox.pending("highlevel", 5) == []  # never picked up again
    logged = outbox.warehouse.query("SELECT status, count(*) FROM sync_log WHERE run_id = 'run-1' GROUP BY 1")
    assert logged == [("skipped", 2)]


def test_writes_wait_when_the_target_recreates_deleted_contacts(tmp_path: Path) -> None:
    """Mirror mode re-creates a deleted contact: its writes wait for it."""
    outbox = _outbox(tmp_path, deleted=True)
    report = execute_activities(outbox, _unreachable(), "run-1", 5, WelcomeFlow(), recreates_deleted=True)
    assert report.waiting == 2 and report.skipped == 0
    assert [s for s, _ in _statuses(outbox)] == ["planned", "planned"]
    assert outbox.parent_id("highlevel", "p-1") is None


def test_a_live_contact_is_the_parent(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, deleted=False)
    assert outbox.parent("highlevel", "p-1") == ("hl-1", False)
    assert outbox.parent_id("highlevel", "p-1") == "hl-1"
    assert outbox.parent("highlevel", "someone-else") == (None, False)
