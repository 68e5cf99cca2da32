"""What a write run's outcome tells the person watching: whether it is green, how urgent it is, and why.

A run whose writes were refused is not green. Nothing getting through (credentials refused, budget gone, several
writes and every one refused) needs a person: an error. One record the platform refuses (a 409 on a number another
record holds) is a warning and shows in the dead_writes check: paging for it again on every plan would be noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from etl_project.load.executor import ExecutionReport

WHOLESALE_REFUSAL = 3  # refused writes, none acknowledged, before the refusal is the platform's, not one record's


@dataclass(frozen=True)
class WritesOutcome:
    passed: bool
    description: str
    severity: Literal["ERROR", "WARN"] = "ERROR"  # the names of Dagster's AssetCheckSeverity


def blocked_outcome(reason: str) -> WritesOutcome:
    """Nothing was sent: the changeset's own check is the error (and the alert); this one only says so."""
    return WritesOutcome(False, reason, "WARN")


def writes_outcome(report: ExecutionReport) -> WritesOutcome:
    dead, failed = report.total("dead"), report.total("failed")
    acknowledged = report.total("acknowledged")
    if report.credentials_refused or (not acknowledged and (report.stopped or dead >= WHOLESALE_REFUSAL)):
        why = report.stopped or f"every write was refused: {dead} dead (see sync_log for each reason)"
        return WritesOutcome(False, why, "ERROR")
    if report.stopped:  # the daily budget ran out after some writes: the next day's runs carry on
        return WritesOutcome(False, report.stopped, "WARN")
    if dead or failed:
        return WritesOutcome(
            False,
            f"{dead} write(s) refused (dead; see sync_log) and {failed} failed transiently (the next run retries them)",
            "WARN",
        )
    return WritesOutcome(True, "every write sent was acknowledged")
