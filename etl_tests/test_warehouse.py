"""Warehouse SQL on a real temporary DuckDB file: idempotent landing, version guard, deletions, cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from etl_project.platforms.validation import Rejected
from etl_project.warehouse import sql as sql_files
from etl_project.warehouse.store import Record, Warehouse, Window, _schema_digest
from etl_tests.bad_input_helpers import make_warehouse

T0 = datetime(2026, 11, 1, tzinfo=UTC)
WINDOW = Window("2026-11-01", T0, T0 + timedelta(days=1), T0, T0 + timedelta(days=1), "run-1", False)


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    wh = make_warehouse(tmp_path / "w.duckdb")
    wh.ensure_schema()  # DDL is idempotent
    return wh


def contact(cid: str, updated: str, first: str = "Ann") -> Record:
    return Record(
        cid,
        {"id": cid, "firstName": first, "tags": ["x"], "dateAdded": "2026-10-01T00:00:00.000Z", "dateUpdated": updated},
    )


def test_relanding_the_same_batch_adds_nothing(warehouse: Warehouse) -> None:
    batch = [contact("a", "2026-11-01T01:00:00.000Z"), contact("b", "2026-11-01T02:00:00.000Z")]
    first = warehouse.land("highlevel", "contacts", WINDOW, batch)
    again = warehouse.land("highlevel", "contacts", WINDOW, batch)
    assert (first.new_records, first.versions_added) == (2, 2)
    assert (again.new_records, again.changed, again.versions_added) == (0, 0, 0)
    assert warehouse.query("SELECT count(*) FROM raw_records") == [(2,)]
    assert warehouse.query("SELECT count(*) FROM ghl_contacts") == [(2,)]


def test_a_change_adds_a_version_and_an_older_one_never_overwrites(warehouse: Warehouse) -> None:
    warehouse.land("highlevel", "contacts", WINDOW, [contact("a", "2026-11-01T01:00:00.000Z")])
    newer = warehouse.land("highlevel", "contacts", WINDOW, [contact("a", "2026-11-01T05:00:00.000Z", "Anna")])
    assert (newer.changed, newer.versions_added) == (1, 1)
    # A slow backfill lands an older version after the newer one: history keeps it, current state does not.
    warehouse.land("highlevel", "contacts", WINDOW, [contact("a", "2026-11-01T03:00:00.000Z", "Old")])
    assert warehouse.query("SELECT first_name, tags FROM ghl_contacts") == [("Anna", ["x"])]
    assert warehouse.query("SELECT count(*) FROM raw_records") == [(3,)]


def test_quarantine_keeps_payload_and_reason_and_resolves(warehouse: Warehouse) -> None:
    bad = Rejected("a", "email: not a valid email address", {"id": "a", "email": "a@"})
    result = warehouse.land("highlevel", "contacts", WINDOW, [], [bad])
    warehouse.land("highlevel", "contacts", WINDOW, [], [bad])
    assert result.quarantined == 1
    assert warehouse.query("SELECT record_id, reason, payload->>'email' FROM quarantine") == [
        ("a", "email: not a valid email address", "a@")
    ]
    warehouse.land("highlevel", "contacts", WINDOW, [contact("a", "2026-11-01T06:00:00.000Z")])
    assert warehouse.query("SELECT resolved_at IS NOT NULL FROM quarantine") == [(True,)]


def test_child_missing_from_a_complete_list_is_marked_deleted(warehouse: Warehouse) -> None:
    task = Record("t1", {"id": "t1", "title": "Call", "dueDate": "2026-11-02T00:00:00Z", "completed": False}, "p1")
    other = Record("t2", {"id": "t2", "title": "Mail", "dueDate": "2026-11-02T00:00:00Z", "completed": True}, "p2")
    warehouse.land("highlevel", "tasks", WINDOW, [task, other], parents=["p1", "p2"])
    result = warehouse.land("highlevel", "tasks", WINDOW, [], parents=["p1"])
    assert result.deleted == 1
    assert warehouse.query("SELECT id, is_deleted FROM ghl_tasks ORDER BY id") == [("t1", True), ("t2", False)]


def test_contacts_missing_from_a_full_listing_are_marked_deleted_but_an_empty_listing_is_refused(
    warehouse: Warehouse,
) -> None:
    from etl_project.warehouse.store import EmptyListing

    warehouse.land(
        "highlevel",
        "contacts",
        WINDOW,
        [contact("a", "2026-11-01T06:00:00.000Z"), contact("b", "2026-11-01T06:00:00.000Z")],
    )
    started = datetime.now(UTC)
    with pytest.raises(EmptyListing, match="refusing to mark 2 deleted"):
        warehouse.mark_missing_contacts("highlevel", set(), started)
    assert warehouse.query("SELECT count(*) FROM ghl_contacts WHERE is_deleted") == [(0,)]
    assert warehouse.mark_missing_contacts("highlevel", {"a"}, started) == 1
    assert warehouse.mark_missing_contacts("highlevel", {"a"}, started) == 0, "already marked"
    warehouse.land("highlevel", "contacts", WINDOW, [contact("c", "2026-11-01T07:00:00.000Z")])  # during the listing
    assert warehouse.mark_missing_contacts("highlevel", {"a"}, started) == 0, "landed after the listing began"
    assert warehouse.query("SELECT id, is_deleted FROM ghl_contacts ORDER BY id") == [
        ("a", False),
        ("b", True),
        ("c", False),
    ]


def test_cursor_moves_forward_only(warehouse: Warehouse) -> None:
    assert warehouse.get_cursor("highlevel", "contacts") is None
    warehouse.advance_cursor("highlevel", "contacts", T0 + timedelta(hours=5), "r1")
    warehouse.advance_cursor("highlevel", "contacts", T0 + timedelta(hours=2), "r2")
    assert warehouse.get_cursor("highlevel", "contacts") == T0 + timedelta(hours=5)


def test_a_later_change_to_an_old_order_does_not_make_its_buyer_name_the_newest(warehouse: Warehouse) -> None:
    from etl_project.sync.config import load_config
    from etl_project.sync.reconcile import reconcile
    from etl_project.warehouse.derived import DerivedTables

    def order(oid: str, name: str, created: str, updated: str, tag: str = "") -> Record:
        body = {"id": oid, "buyer_email": "ann@example.com", "buyer_name": name, "tag": tag, "state": "complete"}
        return Record(oid, {**body, "created_at": created, "updated_at": updated, "cart": {}})

    warehouse.land("sendowl", "orders", WINDOW, [order("1", "ann lee", "2026-10-01T00:00:00Z", "2026-10-01T00:00:00Z")])
    warehouse.land("sendowl", "orders", WINDOW, [order("2", "Ann Lee", "2026-10-20T00:00:00Z", "2026-10-20T00:00:00Z")])
    # The sync tags the old order with the HighLevel id: SendOwl bumps its update time, not its buyer's name.
    warehouse.land(
        "sendowl", "orders", WINDOW, [order("1", "ann lee", "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", "hl-1")]
    )
    golden = reconcile(DerivedTables(warehouse).contact_versions(), {}, load_config()).golden
    ((person, fields),) = golden.items()
    assert (fields["first_name"].value, fields["last_name"].value) == ("Ann", "Lee"), person


def test_a_superseded_task_write_needed_again_is_planned_afresh(warehouse: Warehouse) -> None:
    from etl_project.sync.activities import ActivityOp
    from etl_project.warehouse.activities import ActivityOutbox
    from etl_project.warehouse.task_pairs import supersede_task_updates

    outbox = ActivityOutbox(warehouse)
    done = ActivityOp("highlevel_tasks_to_sendapp", "sendapp", "update_task", "p1", "t1", {"status": "done"}, "k1")
    assert len(outbox.store([done], "run-1", dry_run=False)) == 1
    assert outbox.store([done], "run-2", dry_run=False) == [], "the same state plans nothing new"
    assert supersede_task_updates(warehouse, [("t1", None)], "run-3") == 1, "reopened: the write is not needed"
    assert len(outbox.store([done], "run-4", dry_run=False)) == 1, "completed again: needed after all"
    assert warehouse.query("SELECT status, attempts FROM activity_outbox") == [("planned", 0)]


def test_a_record_is_dated_by_when_it_was_fetched_not_when_its_batch_landed(warehouse: Warehouse) -> None:
    from etl_project.warehouse.store import Batch

    task = Record("t1", {"id": "t1", "title": "Call", "dueDate": "2026-11-02T00:00:00Z", "completed": False}, "p1")
    fetched = datetime(2026, 11, 1, 12, tzinfo=UTC)
    warehouse.land_batches([Batch("highlevel", "tasks", WINDOW, [task], parents=["p1"], fetched_at=fetched)])
    assert warehouse.query("SELECT extracted_at FROM ghl_tasks") == [(fetched,)]
    # A batch fetched earlier but landed later (staged meanwhile) never overwrites what a later fetch saw.
    done = Record("t1", {**task.payload, "completed": True}, "p1")
    warehouse.land_batches([Batch("highlevel", "tasks", WINDOW, [done], fetched_at=fetched + timedelta(hours=1))])
    warehouse.land_batches([Batch("highlevel", "tasks", WINDOW, [task], fetched_at=fetched + timedelta(minutes=30))])
    assert warehouse.query("SELECT completed FROM ghl_tasks") == [(True,)]


def test_a_users_edit_on_a_record_the_sync_wrote_earlier_is_not_taken_for_an_echo(warehouse: Warehouse) -> None:
    """Seen in the 14-day soak: the sync created SendApp 7 as "William Kent" (from a SendOwl buyer), the user renamed
    him "Kent" → "Bo" on SendApp, and a later write sent only first_name there. The snapshot must not count last_name
    "Bo" as written by the sync, or the SendOwl sale's old "Kent" wins and both platforms get it written back."""
    from etl_project.sync.config import load_config
    from etl_project.sync.reconcile import Version, reconcile
    from etl_project.warehouse.derived import DerivedTables
    from etl_project.warehouse.outbox import Outbox, PendingRow

    at = lambda d, h: datetime(2026, 11, d, h, tzinfo=UTC)  # noqa: E731
    created = {"email": "w@x.io", "phone": "+12125550100", "first_name": "William", "last_name": "Kent"}
    renamed = {**created, "first_name": "Cy", "last_name": "Bo"}
    outbox = Outbox(warehouse)
    person = "p1"
    outbox.acknowledge(
        "sendapp", PendingRow("k1", "create", person, None, {}, created, created, 0, False, None), "r1", "7", at(2, 9)
    )
    outbox.acknowledge(
        "sendapp",
        PendingRow("k2", "update", person, "7", {}, renamed, {"first_name": "Cy"}, 0, False, None),
        "r2",
        "7",
        at(4, 9),
    )
    written = DerivedTables(warehouse).written_snapshots()[("sendapp", person)]
    assert written["last_name"] == ("Kent", at(2, 9)) and written["first_name"] == ("Cy", at(4, 9))

    sa = lambda first, last, t: Version(  # noqa: E731
        "sendapp", "7", {"email": "w@x.io", "number": "12125550100", "first_name": first, "last_name": last}, t
    )
    versions = [
        Version("sendowl", "o1", {"buyer_email": "w@x.io", "buyer_name": "William Kent"}, at(1, 0)),
        sa("William", "Kent", at(2, 9)),
        sa("William", "Bo", at(3, 12)),  # the user's edit on SendApp
        sa("Cy", "Bo", at(4, 9)),  # the sync's write of a HighLevel edit
        Version("highlevel", "h1", {"email": "w@x.io", "firstName": "Cy", "lastName": "Bo"}, at(4, 8)),
    ]
    links = {("sendapp", "7"): person, ("sendowl", "w@x.io"): person, ("highlevel", "h1"): person}
    hl_echo = {"last_name": ("Bo", at(4, 8))}  # the sync copied "Bo" to HighLevel, too
    golden = reconcile(versions, links, load_config(), {("sendapp", person): written, ("highlevel", person): hl_echo})
    assert golden.golden[person]["last_name"].value == "Bo", "the user's edit stays; the old sale's name does not win"
    assert golden.golden[person]["first_name"].value == "Cy"


def test_a_transaction_that_raises_leaves_nothing_behind(warehouse: Warehouse) -> None:
    with pytest.raises(RuntimeError), warehouse.transaction() as con:
        con.execute("INSERT INTO flow_state VALUES ('f', now())")
        raise RuntimeError("a crash between two statements")
    assert warehouse.query("SELECT count(*) FROM flow_state") == [(0,)]
    with warehouse.transaction() as con:
        con.execute("INSERT INTO flow_state VALUES ('f', now())")
    assert warehouse.query("SELECT count(*) FROM flow_state") == [(1,)]


def test_sql_files_are_found_by_name_in_their_stage_folder_and_the_digest_covers_every_create_file() -> None:
    root = Path(sql_files.__file__).parent / "sql"
    files = sorted(root.glob("*/*.sql"))
    assert not list(root.glob("*.sql")), "every SQL file sits in a stage folder"
    names = [f.stem for f in files]
    assert len(names) == len(set(names)), "a name is unique across the folders"
    for f in files:
        assert sql_files.load_sql(f.stem) == f.read_text()
    creates = sorted(f for f in files if f.stem.startswith("create_"))
    assert {f.parent.name for f in creates} == {"schema"}
    assert sql_files.create_statements() == [f.read_text() for f in sorted(creates, key=lambda f: f.name)]
    _schema_digest.cache_clear()
    assert _schema_digest() == _schema_digest.__wrapped__(), "stable: the same DDL, the same digest"
    with pytest.raises(LookupError, match="no SQL file"):
        sql_files.load_sql("select_nothing_at_all")


def test_a_repeated_sql_file_name_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("extract", "reconcile"):
        (tmp_path / "sql" / folder).mkdir(parents=True)
        (tmp_path / "sql" / folder / "select_twice.sql").write_text("SELECT 1;")
    monkeypatch.setattr(sql_files.resources, "files", lambda _package: tmp_path)
    sql_files._index.cache_clear()
    try:
        with pytest.raises(LookupError, match="unique"):
            sql_files._index()
    finally:
        monkeypatch.undo()
        sql_files._index.cache_clear()
