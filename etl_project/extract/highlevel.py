"""Extract HighLevel contacts for a run's windows, and the child records of the contacts that changed in them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from etl_project.extract.staging import Stager
from etl_project.platforms.errors import NotFoundError
from etl_project.platforms.highlevel import HighLevelClient
from etl_project.platforms.pacing import RateLimitSnapshot
from etl_project.platforms.validation import Parsed, Rejected
from etl_project.warehouse.store import Batch, LandResult, Record, Warehouse, Window

CHILD_KINDS = ("tasks", "notes", "appointments")
PLATFORM = "highlevel"


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


def extract_contacts(client: HighLevelClient, warehouse: Warehouse, windows: Sequence[Window]) -> list[ExtractReport]:
    """Contacts with `dateUpdated` in each window's [read_from, read_to), staged page by page.

    Memory holds at most the stager's buffer; the live cursor advances only after everything has landed.
    """
    stager = Stager(warehouse)
    reports = []
    for window in windows:
        report = ExtractReport("contacts")
        sent_before = client.requests_sent
        for page in client.iter_contacts_updated(window.read_from, window.read_to):
            records = [Record(model.id, raw) for model, raw in page.valid]
            stager.add(Batch(PLATFORM, "contacts", window, records, page.rejected), report.land)
            report.note_rejects(page.rejected)
            for model, _ in page.valid:
                if report.max_updated is None or model.updated_at > report.max_updated:
                    report.max_updated = model.updated_at
        report.requests = client.requests_sent - sent_before
        report.rate = client.window_pacer.last
        stager.window_done(PLATFORM, "contacts", window, report.land, report.requests)
        reports.append(report)
    stager.flush()
    for window, report in zip(windows, reports, strict=True):
        if not window.is_backfill and report.max_updated is not None:
            warehouse.advance_cursor(PLATFORM, "contacts", report.max_updated, window.run_id)
    return reports


def _fetcher(client: HighLevelClient, kind: str) -> Callable[[str], Parsed[Any]]:
    fetchers: dict[str, Callable[[str], Parsed[Any]]] = {
        "tasks": client.get_tasks,
        "notes": client.get_notes,
        "appointments": client.get_appointments,
    }
    return fetchers[kind]


def extract_children(
    client: HighLevelClient,
    warehouse: Warehouse,
    kind: str,
    windows: Sequence[Window],
    parents_per_window: Sequence[Sequence[str]],
    parents_per_batch: int = 100,
) -> list[ExtractReport]:
    """One request per parent (the API has no paging or date filter for children); whole lists per parent."""
    fetch = _fetcher(client, kind)
    client.ensure_daily_budget(len({p for listed in parents_per_window for p in listed}))
    stager = Stager(warehouse)
    reports = []
    fetched: set[str] = set()
    for window, listed in zip(windows, parents_per_window, strict=True):
        # A contact in the lookback overlap of two windows is fetched once per run, not twice.
        parent_ids = [p for p in listed if p not in fetched]
        fetched.update(parent_ids)
        report = ExtractReport(kind, parents=len(parent_ids))
        sent_before = client.requests_sent
        for start in range(0, len(parent_ids), parents_per_batch):
            chunk = parent_ids[start : start + parents_per_batch]
            records: list[Record] = []
            rejected: list[Rejected] = []
            for parent_id in chunk:
                try:
                    parsed = fetch(parent_id)
                except NotFoundError:
                    # Deleted since the contact was extracted: its children are gone too.
                    report.missing_parents += 1
                    continue
                records.extend(Record(m.id, raw, parent_id) for m, raw in parsed.valid)
                rejected.extend(parsed.rejected)
            stager.add(Batch(PLATFORM, kind, window, records, rejected, parents=chunk), report.land)
            report.note_rejects(rejected)
        report.requests = client.requests_sent - sent_before
        report.rate = client.window_pacer.last
        stager.window_done(PLATFORM, kind, window, report.land, report.requests)
        reports.append(report)
    stager.flush()
    return reports
