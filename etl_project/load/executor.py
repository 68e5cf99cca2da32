"""The executors: send one target's pending outbox rows, oldest first, and book each result.

One send loop serves both outboxes (`send_rows`); what differs per outbox is its `OutboxSteps` (which rows go and on
what record, how a row is sent, how a result is booked), and what differs per operation is the writer's.

Per row: mark it `sent` (so a crash leaves it visibly in doubt), call the platform, then book the answer in one
transaction. Platform refusals (4xx) are final (`dead`); transport errors, 429s and 5xx left after the client's own
retries leave the row `failed` for the next run, up to `max_attempts`, unless the outbox holds that write in doubt
(`unknown`: never sent again). An exhausted daily budget or refused credentials stop the run: nothing else would
get through.

The contact outbox (`execute`): an acknowledged row advances the target snapshot in the same transaction. A create
that may have been applied already (an earlier attempt has no recorded answer: a crash, a timeout or reset, a 5xx, an
unreadable 2xx; the client never repeats those) is looked up first and, when found, adopted and brought up to date
instead of created again; a 409 on a create adopts the record holding the key only when the look-up finds it ours.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from etl_project.load.held import Held
from etl_project.load.writers import TargetWriter, Written
from etl_project.platforms.errors import (
    AuthenticationError,
    ConflictError,
    DailyBudgetExhaustedError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PlatformError,
)
from etl_project.warehouse.outbox import Outbox, PendingRow

FINAL_ERRORS = (ConflictError, InvalidRequestError, NotFoundError, PermissionDeniedError)
STOP_ERRORS = (DailyBudgetExhaustedError, AuthenticationError)


@dataclass
class RunReport:
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (row name, status) → rows
    stopped: str | None = None  # why the run stopped early (daily budget, refused credentials), if it did
    credentials_refused: bool = False

    def total(self, status: str) -> int:
        return sum(n for (_, s), n in self.counts.items() if s == status)


@dataclass
class ExecutionReport(RunReport):
    adopted: int = 0  # creates answered by finding the record a lost response had made


class Row(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def person_id(self) -> str: ...
    @property
    def attempts(self) -> int: ...


@dataclass(frozen=True)
class Send:
    """The row goes now, hanging on `parent` (the record an activity is written on; None for contacts)."""

    parent: str | None = None


@dataclass(frozen=True)
class Hold:
    """The row does not go this run: booked now with `status` (e.g. `skipped`), or left to wait (None)."""

    status: str | None = None


R = TypeVar("R", bound=Row)
R_contra = TypeVar("R_contra", bound=Row, contravariant=True)
A = TypeVar("A")  # what the platform answered


class OutboxSteps(Protocol[R_contra, A]):
    """What one outbox does at each step of the loop."""

    @property
    def platform(self) -> str: ...

    def name(self, row: R_contra) -> str: ...  # the row's key in the report's counts
    def prepare(self, row: R_contra, run_id: str) -> Send | Hold: ...
    def mark_sent(self, row: R_contra, run_id: str, parent: str | None) -> None: ...
    def send(self, row: R_contra, parent: str | None) -> A: ...
    def in_doubt(self, row: R_contra, exc: PlatformError) -> bool: ...  # it may have gone out: never sent again
    def book(self, row: R_contra, run_id: str, parent: str | None, answer: A) -> None: ...
    def fail(self, row: R_contra, run_id: str, parent: str | None, status: str, error: str) -> None: ...


def send_rows(
    steps: OutboxSteps[R, A],
    rows: Sequence[R],
    run_id: str,
    max_attempts: int,
    report: RunReport,
    log: Callable[[str], None],
    hold: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> None:
    """The send loop both outboxes share. `hold` keeps the warehouse open between platform calls."""
    held = Held(hold)
    try:
        for row in rows:
            held.enter()
            if not _send_row(steps, row, run_id, max_attempts, report, log, held):
                break
    finally:
        held.leave()


def _send_row(
    steps: OutboxSteps[R, A],
    row: R,
    run_id: str,
    max_attempts: int,
    report: RunReport,
    log: Callable[[str], None],
    held: Held,
) -> bool:
    """One row through the loop; False when the run must stop."""
    platform, name = steps.platform, steps.name(row)
    step = steps.prepare(row, run_id)
    if isinstance(step, Hold):
        if step.status is not None:
            report.counts[(name, step.status)] += 1
        return True
    steps.mark_sent(row, run_id, step.parent)
    held.leave_soon()  # nothing holds the file during a platform call that takes its time (held.py)
    try:
        answer = steps.send(row, step.parent)
    except PlatformError as exc:
        held.enter()
        if isinstance(exc, STOP_ERRORS):
            # Nothing else would get through (no budget left, or the credentials are refused): stop, and say so.
            steps.fail(row, run_id, step.parent, "failed", str(exc))
            report.counts[(name, "failed")] += 1
            report.stopped = f"{platform}: stopped: {exc}"
            report.credentials_refused = isinstance(exc, AuthenticationError)
            log(report.stopped)
            return False
        if steps.in_doubt(row, exc):
            status, error = "unknown", f"in doubt, not re-sent: {exc}"
        else:
            final = isinstance(exc, FINAL_ERRORS) or row.attempts + 1 >= max_attempts
            status, error = ("dead" if final else "failed"), str(exc)
        steps.fail(row, run_id, step.parent, status, error)
        report.counts[(name, status)] += 1
        log(f"{platform}: {name} for {row.person_id} {status}: {exc}")
        return True
    held.enter()
    steps.book(row, run_id, step.parent, answer)
    report.counts[(name, "acknowledged")] += 1
    return True


@dataclass
class ContactSteps:
    """The contact outbox: create, update and delete a contact; an acknowledgement advances the snapshot."""

    outbox: Outbox
    writer: TargetWriter
    report: ExecutionReport

    @property
    def platform(self) -> str:
        return self.writer.platform

    def name(self, row: PendingRow) -> str:
        return row.operation

    def prepare(self, row: PendingRow, run_id: str) -> Send | Hold:
        return Send()

    def mark_sent(self, row: PendingRow, run_id: str, parent: str | None) -> None:
        self.outbox.mark_sent(row.key, run_id)

    def send(self, row: PendingRow, parent: str | None) -> tuple[Written | None, bool]:
        """Perform one row; returns what the platform answered and whether a record was created (or adopted)."""
        writer = self.writer
        if row.operation == "delete":
            if row.target_id is not None:
                writer.delete(row.target_id)
            return None, False
        if row.operation == "update":
            if row.target_id is None:
                raise NotFoundError(writer.platform, "update without a target record id")
            return writer.update(row.target_id, row.payload), False
        # create
        if row.needs_lookup:
            found = writer.lookup(row.payload, row.first_sent_at)
            if found is not None:
                self.report.adopted += 1
                return writer.update(found, row.payload), True
        try:
            return writer.create(row.payload), True
        except ConflictError:
            # The platform already holds the unique key (e.g. SendApp's number): adopt it only if it is ours.
            found = writer.lookup(row.payload, row.first_sent_at) if row.first_sent_at else None
            if found is None:
                raise
            self.report.adopted += 1
            return writer.update(found, row.payload), True

    def in_doubt(self, row: PendingRow, exc: PlatformError) -> bool:
        return False  # a create that may have been applied is looked up before it is sent again (`send`)

    def book(self, row: PendingRow, run_id: str, parent: str | None, answer: tuple[Written | None, bool]) -> None:
        written, created = answer
        target_id = written.target_id if written else row.target_id
        version = written.version if written else None
        self.outbox.acknowledge(self.platform, row, run_id, target_id, version, created=created)

    def fail(self, row: PendingRow, run_id: str, parent: str | None, status: str, error: str) -> None:
        self.outbox.fail(self.platform, row, run_id, error, final=status == "dead")


def execute(
    outbox: Outbox,
    writer: TargetWriter,
    run_id: str,
    max_attempts: int,
    log: Callable[[str], None] = lambda _: None,
) -> ExecutionReport:
    """Send the contact outbox's pending rows for the writer's platform."""
    report = ExecutionReport()
    steps = ContactSteps(outbox, writer, report)
    rows = outbox.pending(writer.platform, max_attempts)
    send_rows(steps, rows, run_id, max_attempts, report, log, outbox.warehouse.held)
    return report
