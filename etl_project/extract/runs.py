"""Extraction runs, platform-agnostic: page through records updated in each window, or fetch the complete child
lists of the parents that changed, and stage everything into the warehouse. No Dagster here."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from etl_project.extract.staging import Stager
from etl_project.platforms.errors import NotFoundError
from etl_project.platforms.http import ApiClient
from etl_project.platforms.pacing import RateLimitSnapshot
from etl_project.platforms.validation import Parsed, Rejected
from etl_project.warehouse.store import Batch, LandResult, Record, Warehouse, Window

Pages = Callable[[datetime, datetime], Iterator[Parsed[Any]]]
Fetch = Callable[[str], Parsed[Any]]


@dataclass
class ExtractReport:
    kind: str
    land: LandResult = field(default_factory=LandResult)
    requests: int = 0
    max_updated: datetime | None = None
    parents: int = 0
    missing_parents: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    rate: RateLimitSnapshot = field(default_factory=RateLimitSnapshot)

    def note_rejects(self, rejected: Sequence[Rejected]) -> None:
        for r in rejected:
            self.reasons[r.reason.split(" (")[0][:120]] += 1


def _rate(client: ApiClient) -> RateLimitSnapshot:
    return getattr(client.pacer, "last", RateLimitSnapshot())


def extract_updated(
    client: ApiClient,
    warehouse: Warehouse,
    platform: str,
    kind: str,
    pages: Pages,
    windows: Sequence[Window],
    updated_at: Callable[[Any], datetime],
) -> list[ExtractReport]:
    """Records updated in the run's windows (contiguous, oldest first), read in ONE paging pass.

    A single-run backfill of 90 days costs one paging sequence, not 90 (on a 1 request/s API that is minutes),
    and each record is booked to the partition its update time falls in, so the ledger stays exact per partition.
    Memory holds at most the stager's buffer; the live cursor advances only after everything has landed.
    """
    stager = Stager(warehouse)
    reports = [ExtractReport(kind) for _ in windows]
    sent_before = client.requests_sent
    listing = iter(pages(windows[0].read_from, windows[-1].read_to))
    try:
        while True:
            requested = datetime.now(UTC)
            page = next(listing, None)
            if page is None:
                break
            _stage_page(page, platform, kind, windows, reports, stager, requested, updated_at)
    except Exception as exc:
        # Paging failed part-way (a platform error, a page marker that stopped advancing): land what was read,
        # idempotently, but neither complete the windows nor move the cursor, so the next run reads them again.
        try:
            stager.flush()
        except Exception as landing:
            exc.add_note(f"the pages read before it could not be landed either: {landing}")
        raise
    requests = client.requests_sent - sent_before
    for window, report in zip(windows, reports, strict=True):
        report.rate = _rate(client)
        # One paging pass serves every window: its requests are booked on the last (the run's) window.
        report.requests = requests if window is windows[-1] else 0
        stager.window_done(platform, kind, window, report.land, report.requests)
    stager.flush()
    for window, report in zip(windows, reports, strict=True):
        if not window.is_backfill and report.max_updated is not None:
            warehouse.advance_cursor(platform, kind, report.max_updated, window.run_id)
    return reports


def _stage_page(
    page: Parsed[Any],
    platform: str,
    kind: str,
    windows: Sequence[Window],
    reports: Sequence[ExtractReport],
    stager: Stager,
    requested: datetime,
    updated_at: Callable[[Any], datetime],
) -> None:
    starts = [w.start for w in windows]
    grouped: dict[int, list[Record]] = {}
    last = 0
    for model, raw in page.valid:
        stamp = updated_at(model)
        last = max(0, bisect.bisect_right(starts, stamp) - 1)  # records in the lookback go to the first
        grouped.setdefault(last, []).append(Record(str(model.id), raw))
        report = reports[last]
        # The cursor never passes the time the page was requested: a record stamped later (clock skew) is read
        # again next run, rather than every record stamped between now and then being skipped.
        reached = min(stamp, requested)
        if report.max_updated is None or reached > report.max_updated:
            report.max_updated = reached
    # Rejects carry no trustworthy time: book them with the page's newest valid record.
    for idx in set(grouped) | ({last} if page.rejected else set()):
        rejected = page.rejected if idx == last else []
        batch = Batch(platform, kind, windows[idx], grouped.get(idx, []), rejected, fetched_at=requested)
        stager.add(batch, reports[idx].land)
        reports[idx].note_rejects(rejected)


def extract_children(
    client: ApiClient,
    warehouse: Warehouse,
    platform: str,
    kind: str,
    fetch: Fetch,
    windows: Sequence[Window],
    parents_per_window: Sequence[Sequence[str]],
    parents_per_batch: int = 100,
) -> list[ExtractReport]:
    """One request per parent (no paging or date filter for children); each list is complete for its parent."""
    budget = getattr(client, "ensure_daily_budget", None)
    if budget is not None:
        budget(len({p for listed in parents_per_window for p in listed}))
    stager = Stager(warehouse)
    reports = []
    fetched: set[str] = set()
    for window, listed in zip(windows, parents_per_window, strict=True):
        # A parent in the lookback overlap of two windows is fetched once per run, not twice.
        parent_ids = [p for p in listed if p not in fetched]
        fetched.update(parent_ids)
        report = ExtractReport(kind, parents=len(parent_ids))
        sent_before = client.requests_sent
        for start in range(0, len(parent_ids), parents_per_batch):
            chunk = parent_ids[start : start + parents_per_batch]
            records: list[Record] = []
            rejected: list[Rejected] = []
            requested = datetime.now(UTC)
            for parent_id in chunk:
                try:
                    parsed = fetch(parent_id)
                except NotFoundError:
                    # Deleted since the parent was extracted: its children are gone too.
                    report.missing_parents += 1
                    continue
                records.extend(Record(str(m.id), raw, parent_id) for m, raw in parsed.valid)
                rejected.extend(parsed.rejected)
            stager.add(Batch(platform, kind, window, records, rejected, chunk, requested), report.land)
            report.note_rejects(rejected)
        report.requests = client.requests_sent - sent_before
        report.rate = _rate(client)
        stager.window_done(platform, kind, window, report.land, report.requests)
        reports.append(report)
    stager.flush()
    return reports
