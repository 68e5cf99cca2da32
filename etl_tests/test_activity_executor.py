"""The activity executor's exactly-once rules on a real DuckDB warehouse, one test each, without Dagster.

A user deleted the person's contact on the platform, and the target does not bring deleted records back (every
mode but mirror): the pending writes end `skipped` with the reason, instead of waiting forever. In mirror mode the
sync re-creates the contact, so they wait for it. No platform is called either way (the writer has no client).
The other rules run on a fake writer that keeps what it made in memory; a scripted error can follow the write (the
answer was lost) or replace it (the platform refused it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from etl_project.load.activities import ActivityReport, execute_activities
from etl_project.load.activity_writers import HighLevelActivityWriter
from etl_project.platforms.errors import (
    AuthenticationError,
    DailyBudgetExhaustedError,
    InvalidRequestError,
    PlatformError,
    PlatformTransportError,
    RateLimitError,
    ServerError,
)
from etl_project.sync.activities import ActivityOp, make_op, marker
from etl_project.sync.config import WelcomeFlow
from etl_project.warehouse.activities import ActivityOutbox, PendingActivity
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


# -- the other rules, on a fake writer -------------------------------------------------------------------------------
SALE = "sendowl_purchases_to_highlevel"
WELCOME = "welcome_message"


@dataclass
class FakeWriter:
    """Notes, tasks and messages kept per parent; `find` looks for the row's marker in what was made."""

    platform: str = "highlevel"
    made: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # parent → [(id, body)]
    errors: list[tuple[PlatformError, bool]] = field(default_factory=list)  # (error, applied before it), in order
    calls: list[str] = field(default_factory=list)

    def send(self, row: PendingActivity, parent: str) -> str | None:
        self.calls.append(f"{row.operation} {parent}")
        error, applied = self.errors.pop(0) if self.errors else (None, True)
        made = f"x-{sum(len(v) for v in self.made.values()) + 1}"
        if applied:
            self.made.setdefault(parent, []).append((made, str(row.payload.get("body", ""))))
        if error is not None:
            raise error
        return made

    def find(self, row: PendingActivity, parent: str, taken: set[str]) -> str | None:
        self.calls.append(f"find {parent}")
        tag = marker(row.key)
        return next((i for i, body in self.made.get(parent, []) if tag in body), None)


def _world(tmp_path: Path, *ops: ActivityOp, linked: tuple[str, ...] = ("highlevel", "sendapp")) -> ActivityOutbox:
    """Person p-1 with a live contact on each `linked` platform, and `ops` planned."""
    warehouse = make_warehouse(tmp_path / "w.duckdb")
    with warehouse.connect() as con:
        for platform in linked:
            con.execute("INSERT INTO identity_links VALUES (?, ?, 'p-1', 'email', ?)", [platform, f"{platform}-1", NOW])
    outbox = ActivityOutbox(warehouse)
    outbox.store(list(ops), "plan-run", dry_run=False)
    return outbox


def _note(n: int = 1) -> ActivityOp:
    return make_op(SALE, "highlevel", "create_note", "p-1", f"o-{n}", {"body": f"sale {n}"}, "sale")


def _message() -> ActivityOp:
    return make_op(WELCOME, "sendapp", "send_message", "p-1", "p-1", {"number": "+1", "template": "welcome"})


def _run(outbox: ActivityOutbox, writer: FakeWriter, run: str = "run-1", max_attempts: int = 3) -> ActivityReport:
    return execute_activities(outbox, writer, run, max_attempts, WelcomeFlow())


def _rows(outbox: ActivityOutbox, platform: str) -> list[tuple[str, int, str | None, str | None]]:
    return outbox.warehouse.query(
        "SELECT status, attempts, result_id, last_error FROM activity_outbox WHERE platform = $p ORDER BY planned_at, "
        "idempotency_key",
        {"p": platform},
    )


def test_an_acknowledged_write_records_its_parent_and_result(tmp_path: Path) -> None:
    outbox = _world(tmp_path, _note())
    report = _run(outbox, writer := FakeWriter())
    assert report.counts[(f"{SALE}.create_note", "acknowledged")] == 1 and writer.calls == ["create_note highlevel-1"]
    assert _rows(outbox, "highlevel") == [("acknowledged", 1, "x-1", None)]
    assert outbox.warehouse.query("SELECT parent_id FROM activity_outbox") == [("highlevel-1",)]
    assert _run(outbox, writer, "run-2").counts == {} and len(writer.calls) == 1, "sent once"


def test_a_note_whose_answer_was_lost_is_found_by_its_marker_not_made_twice(tmp_path: Path) -> None:
    outbox = _world(tmp_path, _note())
    writer = FakeWriter(errors=[(ServerError("highlevel", "bad gateway", status_code=502), True)])
    assert _run(outbox, writer).counts[(f"{SALE}.create_note", "failed")] == 1
    report = _run(outbox, writer, "run-2")
    assert report.found_after_lost_answer == 1 and writer.calls == ["create_note highlevel-1", "find highlevel-1"]
    assert _rows(outbox, "highlevel") == [("acknowledged", 2, "x-1", None)] and len(writer.made["highlevel-1"]) == 1


def test_a_note_refused_before_it_was_made_is_sent_again(tmp_path: Path) -> None:
    outbox = _world(tmp_path, _note())
    writer = FakeWriter(errors=[(RateLimitError("highlevel", "slow down", status_code=429), False)])
    _run(outbox, writer)
    assert _run(outbox, writer, "run-2").found_after_lost_answer == 0
    assert writer.calls == ["create_note highlevel-1", "find highlevel-1", "create_note highlevel-1"]
    assert _rows(outbox, "highlevel") == [("acknowledged", 2, "x-1", None)]


@pytest.mark.parametrize(
    "error",
    [
        ServerError("sendapp", "bad gateway", status_code=502),
        PlatformTransportError("sendapp", "read timeout", request_sent=True),
    ],
)
def test_a_message_in_doubt_is_unknown_and_never_sent_again(tmp_path: Path, error: PlatformError) -> None:
    outbox = _world(tmp_path, _message())
    writer = FakeWriter("sendapp", errors=[(error, True)])
    assert _run(outbox, writer).counts[(f"{WELCOME}.send_message", "unknown")] == 1
    ((status, attempts, _, reason),) = _rows(outbox, "sendapp")
    assert (status, attempts) == ("unknown", 1) and "in doubt, not re-sent" in (reason or "")
    assert _run(outbox, writer, "run-2").counts == {} and len(writer.calls) == 1
    assert _rows(outbox, "highlevel") == [], "no welcome note for a message that may not have gone out"


def test_a_message_left_sent_by_a_crash_is_unknown_without_a_call(tmp_path: Path) -> None:
    outbox = _world(tmp_path, _message())
    (row,) = outbox.pending("sendapp", 3)
    outbox.mark_sent(row.key, "crashed-run", "sendapp-1")  # the process died before the answer was booked
    report = _run(outbox, writer := FakeWriter("sendapp"), "run-2")
    assert report.counts[(f"{WELCOME}.send_message", "unknown")] == 1 and writer.calls == []
    assert _rows(outbox, "sendapp")[0][0] == "unknown"


def test_a_message_sendapp_refused_is_sent_again_then_noted_on_highlevel(tmp_path: Path) -> None:
    outbox = _world(tmp_path, _message())
    refused = PlatformTransportError("sendapp", "connection refused", request_sent=False)
    writer = FakeWriter("sendapp", errors=[(refused, False)])
    assert _run(outbox, writer).counts[(f"{WELCOME}.send_message", "failed")] == 1
    assert _run(outbox, writer, "run-2").counts[(f"{WELCOME}.send_message", "acknowledged")] == 1
    assert [s for s, *_ in _rows(outbox, "highlevel")] == ["planned"], "the welcome note, for the HighLevel step"


def test_a_refusal_is_final(tmp_path: Path) -> None:
    outbox = _world(tmp_path, _note())
    writer = FakeWriter(errors=[(InvalidRequestError("highlevel", "body too long", status_code=422), False)])
    assert _run(outbox, writer, max_attempts=5).counts[(f"{SALE}.create_note", "dead")] == 1
    ((status, attempts, _, error),) = _rows(outbox, "highlevel")
    assert (status, attempts) == ("dead", 1) and "body too long" in (error or "")
    assert outbox.pending("highlevel", 5) == []


def test_a_transient_error_is_retried_until_max_attempts_then_dead(tmp_path: Path) -> None:
    outbox = _world(tmp_path, _note())
    writer = FakeWriter(errors=[(RateLimitError("highlevel", "slow down", status_code=429), False)] * 3)
    for n, expected in ((1, "failed"), (2, "failed"), (3, "dead")):
        assert _run(outbox, writer, f"run-{n}").counts[(f"{SALE}.create_note", expected)] == 1
        assert _rows(outbox, "highlevel")[0][:2] == (expected, n)
    assert _run(outbox, writer, "run-4").counts == {} and writer.made == {}


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        (DailyBudgetExhaustedError("highlevel", "40 requests left today"), False),
        (AuthenticationError("highlevel", "invalid token", status_code=401), True),
    ],
)
def test_an_exhausted_budget_or_refused_credentials_stop_the_run(
    tmp_path: Path, error: PlatformError, refused: bool
) -> None:
    outbox = _world(tmp_path, _note(1), _note(2))
    report = _run(outbox, writer := FakeWriter(errors=[(error, False)]))
    assert report.stopped and str(error) in report.stopped and report.credentials_refused is refused
    assert writer.calls == ["create_note highlevel-1"], "nothing after the stop"
    assert [s for s, *_ in _rows(outbox, "highlevel")] == ["failed", "planned"]


def test_a_write_whose_contact_does_not_exist_yet_waits(tmp_path: Path) -> None:
    outbox = _world(tmp_path, _note(), linked=())
    report = _run(outbox, writer := FakeWriter())
    assert report.waiting == 1 and writer.calls == [] and _rows(outbox, "highlevel") == [("planned", 0, None, None)]
    with outbox.warehouse.connect() as con:  # the contact write made it
        con.execute("INSERT INTO identity_links VALUES ('highlevel', 'hl-new', 'p-1', 'created', ?)", [NOW])
    assert _run(outbox, writer, "run-2").waiting == 0 and writer.calls == ["create_note hl-new"]


def test_storing_a_plan_logs_each_new_write_once_and_a_repeat_logs_nothing(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path, deleted=False)  # stores two writes in "plan-run"
    again = make_op("sendowl_purchases_to_highlevel", "highlevel", "add_tags", "p-1", "o-1", {"tags": ["x"]}, "sale")
    dry = make_op("sendowl_purchases_to_highlevel", "highlevel", "create_note", "p-1", "o-2", {"body": "c"}, "sale")
    assert outbox.store([again], "plan-2", dry_run=False) == []
    assert [row[0] for row in outbox.store([again, dry], "plan-3", dry_run=True)] == [dry.key]
    logged = outbox.warehouse.query(
        "SELECT run_id, platform, person_id, target_id, operation, fields_changed, status FROM sync_log ORDER BY ALL"
    )
    assert logged == [
        ("plan-3", "highlevel", "p-1", None, "create_note", [], "dry_run"),
        ("plan-run", "highlevel", "p-1", None, "add_tags", [], "planned"),
        ("plan-run", "highlevel", "p-1", None, "create_note", [], "planned"),
    ]
