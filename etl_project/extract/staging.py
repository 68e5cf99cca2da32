"""Stage fetched pages in memory and land them in few short DuckDB transactions.

Opening the DuckDB file for each page would cost more than the page itself; holding it open across HTTP calls
would block every other writer. The stager buffers up to `max_records` and then lands them all at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from etl_project.warehouse.store import Batch, LandResult, LedgerEntry, Warehouse, Window

DEFAULT_MAX_RECORDS = 5_000


@dataclass
class _DoneWindow:
    platform: str
    kind: str
    window: Window
    result: LandResult
    requests: int


@dataclass
class Stager:
    warehouse: Warehouse
    max_records: int = DEFAULT_MAX_RECORDS
    _batches: list[tuple[Batch, LandResult]] = field(default_factory=list)
    _done: list[_DoneWindow] = field(default_factory=list)
    _buffered: int = 0
    transactions: int = 0

    def add(self, batch: Batch, into: LandResult) -> None:
        """Queue a batch; its landing counts are added to `into` when it lands."""
        self._batches.append((batch, into))
        self._buffered += len(batch.records) + len(batch.rejected) + 1
        if self._buffered >= self.max_records:
            self.flush()

    def window_done(self, platform: str, kind: str, window: Window, result: LandResult, requests: int) -> None:
        """The window's batches are all queued; its ledger row is written after they land."""
        self._done.append(_DoneWindow(platform, kind, window, result, requests))

    def flush(self) -> None:
        with self.warehouse.held():  # the landing and the ledger rows share one opening of the file
            self._flush()

    def _flush(self) -> None:
        if self._batches:
            results = self.warehouse.land_batches([b for b, _ in self._batches])
            for (_, into), result in zip(self._batches, results, strict=True):
                into.add(result)
            self.transactions += 1
        if self._done:
            self.warehouse.record_windows(
                [LedgerEntry(d.platform, d.kind, d.window, d.result, d.requests) for d in self._done]
            )
            self.transactions += 1
        self._batches.clear()
        self._done.clear()
        self._buffered = 0
