"""The executor: send one target's pending outbox rows, oldest first, and book each result.

Per row: mark it `sent` (so a crash leaves it visibly in doubt), call the platform, then in one transaction mark
it acknowledged, advance the snapshot and log it. A create that may have been applied already (an earlier attempt
has no recorded answer: a crash, a timeout or reset, a 5xx, an unreadable 2xx; the client never repeats those) is
looked up first and, when found, adopted and brought up to date instead of created again. Platform refusals (4xx)
are final; transport errors, 429s and 5xx left after the client's own retries leave the row `failed` for the next
run, up to `max_attempts`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

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


@dataclass
class ExecutionReport:
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (operation, status) → rows
    adopted: int = 0  # creates answered by finding the record a lost response had made
    stopped: str | None = None  # why the run stopped early (daily budget, refused credentials), if it did
    credentials_refused: bool = False

    def total(self, status: str) -> int:
        return sum(n for (_, s), n in self.counts.items() if s == status)


def execute(
    outbox: Outbox,
    writer: TargetWriter,
    run_id: str,
    max_attempts: int,
    log: Callable[[str], None] = lambda _: None,
    limit: int | None = None,
) -> ExecutionReport:
    report = ExecutionReport()
    platform = writer.platform
    rows = outbox.pending(platform, max_attempts)
    for row in rows[:limit] if limit is not None else rows:
        outbox.mark_sent(row.key, run_id)
        try:
            written, created = _apply(writer, row, report)
        except (DailyBudgetExhaustedError, AuthenticationError) as exc:
            # Nothing else would get through (no budget left, or the credentials are refused): stop, and say so.
            outbox.fail(platform, row, run_id, str(exc), final=False)
            report.counts[(row.operation, "failed")] += 1
            report.stopped = f"{platform}: stopped: {exc}"
            report.credentials_refused = isinstance(exc, AuthenticationError)
            log(report.stopped)
            break
        except PlatformError as exc:
            final = isinstance(exc, FINAL_ERRORS) or row.attempts + 1 >= max_attempts
            status = "dead" if final else "failed"
            outbox.fail(platform, row, run_id, str(exc), final=final)
            report.counts[(row.operation, status)] += 1
            log(f"{platform}: {row.operation} for {row.person_id} {status}: {exc}")
            continue
        outbox.acknowledge(
            platform,
            row,
            run_id,
            written.target_id if written else row.target_id,
            written.version if written else None,
            created=created,
        )
        report.counts[(row.operation, "acknowledged")] += 1
    return report


def _apply(writer: TargetWriter, row: PendingRow, report: ExecutionReport) -> tuple[Written | None, bool]:
    """Perform one row; returns what the platform answered and whether a record was created (or adopted)."""
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
            report.adopted += 1
            return writer.update(found, row.payload), True
    try:
        return writer.create(row.payload), True
    except ConflictError:
        # The platform already holds the unique key (e.g. SendApp's number): adopt it only if it is ours.
        found = writer.lookup(row.payload, row.first_sent_at) if row.first_sent_at else None
        if found is None:
            raise
        report.adopted += 1
        return writer.update(found, row.payload), True
