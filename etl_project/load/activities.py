"""Execute activity writes (flows 3 to 6) through the platform's activity writer, each exactly once.

The send loop is the contact outbox's (`load/executor.py`); these are the activity outbox's steps in it.

The record a write hangs on (the person's contact, or the SendOwl order) is resolved when the row is sent, so a
contact created earlier in the same run is already there. Creates of notes and tasks carry a marker: an attempt
without a recorded answer (lost, 5xx, unreadable) is looked up by it before anything is created again. A WhatsApp
message that may have gone out (answer lost, 5xx, timeout, reset, unreadable 2xx) is never re-sent (status
`unknown`, with the reason); only one that SendApp provably refused (429, 4xx, no connection) is retried next run.
A write for a person whose contact there was deleted by a user ends `skipped` with the reason, unless the target
brings deleted records back (mirror mode), where it waits for the new contact. As for contacts, an exhausted daily
budget or refused credentials stop the platform's run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from etl_project.load.activity_writers import ActivityWriter
from etl_project.load.executor import Hold, RunReport, Send, send_rows
from etl_project.platforms.errors import PlatformError, may_have_applied
from etl_project.sync.activities import ActivityOp, welcome_note
from etl_project.sync.config import WelcomeFlow
from etl_project.warehouse.activities import ActivityOutbox, PendingActivity
from etl_project.warehouse.task_pairs import paired_sendapp_tasks


@dataclass
class ActivityReport(RunReport):
    """`counts` are keyed by (flow.operation, status)."""

    waiting: int = 0  # rows whose contact does not exist yet
    skipped: int = 0  # rows whose contact was deleted on the platform (not brought back)
    found_after_lost_answer: int = 0


@dataclass
class ActivitySteps:
    """The activity outbox: each row hangs on a parent record, resolved when it is sent."""

    outbox: ActivityOutbox
    writer: ActivityWriter
    report: ActivityReport
    welcome: WelcomeFlow
    log: Callable[[str], None]
    recreates_deleted: bool
    taken: set[str] = field(default_factory=set)  # SendApp tasks that are a HighLevel task's twin already
    parents: dict[str, tuple[str | None, bool]] = field(default_factory=dict)  # stable: contacts are written first

    @property
    def platform(self) -> str:
        return self.writer.platform

    def name(self, row: PendingActivity) -> str:
        return f"{row.flow}.{row.operation}"

    def prepare(self, row: PendingActivity, run_id: str) -> Send | Hold:
        platform = self.platform
        if row.operation == "send_message" and row.status == "sent":
            self.outbox.result(platform, row, run_id, "unknown", None, error="the answer was lost; not re-sent")
            return Hold("unknown")
        if platform == "sendowl":
            return Send(row.source_ref)  # the order
        if row.person_id not in self.parents:
            self.parents[row.person_id] = self.outbox.parent(platform, row.person_id)
        parent, deleted = self.parents[row.person_id]
        if deleted and not self.recreates_deleted:
            reason = f"the person's {platform} contact {parent} was deleted there; it is not brought back"
            self.outbox.result(platform, row, run_id, "skipped", parent, error=reason)
            self.report.skipped += 1
            return Hold("skipped")
        if parent is None or deleted:
            self.report.waiting += 1  # the contact is not there yet (e.g. its create failed); retried next run
            return Hold()
        return Send(parent)

    def mark_sent(self, row: PendingActivity, run_id: str, parent: str | None) -> None:
        assert parent is not None
        self.outbox.mark_sent(row.key, run_id, parent)

    def send(self, row: PendingActivity, parent: str | None) -> str | None:
        assert parent is not None
        if row.attempts > 0:  # an earlier attempt may have made the note or task: find it by its marker
            found = self.writer.find(row, parent, self.taken)
            if found is not None:
                self.report.found_after_lost_answer += 1
                return found
        return self.writer.send(row, parent)

    def in_doubt(self, row: PendingActivity, exc: PlatformError) -> bool:
        # A 5xx, a timeout, a reset or an unreadable 2xx: the message may have gone out, and SendApp cannot be asked.
        return row.operation == "send_message" and may_have_applied(exc)

    def book(self, row: PendingActivity, run_id: str, parent: str | None, answer: str | None) -> None:
        self.outbox.result(self.platform, row, run_id, "acknowledged", parent, answer)
        if self.platform == "sendapp" and row.operation == "create_task" and answer:
            self.taken.add(answer)
        if row.operation == "send_message" and not _record_welcome(self.outbox, row, run_id, self.welcome):
            self.log(f"sendapp: welcome for {row.person_id} sent; no HighLevel contact to note it on")

    def fail(self, row: PendingActivity, run_id: str, parent: str | None, status: str, error: str) -> None:
        self.outbox.result(self.platform, row, run_id, status, parent, error=error)


def execute_activities(
    outbox: ActivityOutbox,
    writer: ActivityWriter,
    run_id: str,
    max_attempts: int,
    welcome: WelcomeFlow,
    log: Callable[[str], None] = lambda _: None,
    recreates_deleted: bool = False,
) -> ActivityReport:
    """Send the activity outbox's pending rows for the writer's platform.

    `recreates_deleted`: the target brings a contact a user deleted back (mirror mode), so its writes wait."""
    report = ActivityReport()
    steps = ActivitySteps(outbox, writer, report, welcome, log, recreates_deleted)
    if writer.platform == "sendapp":
        steps.taken = paired_sendapp_tasks(outbox.warehouse)
    rows = outbox.pending(writer.platform, max_attempts)
    send_rows(steps, rows, run_id, max_attempts, report, log, outbox.warehouse.held)
    return report


def _record_welcome(outbox: ActivityOutbox, row: PendingActivity, run_id: str, welcome: WelcomeFlow) -> bool:
    """A message SendApp accepted is recorded as a HighLevel note (planned now, written by the HighLevel step).

    Only for a person HighLevel holds: contacts are written before activities, so one who has no HighLevel
    contact now (SendApp-only, HighLevel update-only) never will, and a note planned for them would wait forever.
    The message itself stays in the activity outbox and the sync log either way."""
    if outbox.parent_id("highlevel", row.person_id) is None:
        return False
    message = ActivityOp(row.flow, "sendapp", "send_message", row.person_id, row.source_ref, row.payload, row.key)
    outbox.store([welcome_note(message, welcome)], run_id, dry_run=False)
    return True


def metadata_counts(report: ActivityReport) -> dict[str, Any]:
    out: dict[str, Any] = {f"{name}_{status}": n for (name, status), n in sorted(report.counts.items())}
    out["waiting_for_contact"] = report.waiting
    out["skipped_contact_deleted"] = report.skipped
    out["found_after_lost_answer"] = report.found_after_lost_answer
    if report.stopped:
        out["stopped"] = report.stopped
    return out
