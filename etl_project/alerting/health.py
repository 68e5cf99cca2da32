"""Judgements on the warehouse's health (pure: rows in, a verdict out), behind the checks that run with every sync:
quarantine share per extract, freshness of the live windows, identity conflicts, dead writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from etl_project.sync.config import Thresholds


@dataclass(frozen=True)
class Health:
    passed: bool
    message: str
    details: dict[str, int | float]


def quarantine_shares(rows: Sequence[tuple[str, str, int, int]], thresholds: Thresholds) -> Health:
    """rows: (platform, kind, landed, quarantined) over the last day of extractions."""
    over = []
    details: dict[str, int | float] = {}
    for platform, kind, landed, quarantined in rows:
        total = (landed or 0) + (quarantined or 0)
        share = (quarantined or 0) / total if total else 0.0
        details[f"{platform}.{kind}"] = round(share, 4)
        if share > thresholds.max_quarantine_share:
            over.append(f"{platform} {kind}: {quarantined} of {total} quarantined ({share:.0%})")
    if over:
        limit = f"{thresholds.max_quarantine_share:.0%}"
        return Health(False, f"more than {limit} quarantined in the last day: " + "; ".join(over), details)
    return Health(True, "quarantine shares within thresholds", details)


def freshness(rows: Sequence[tuple[str, str, Any, Any]], now: datetime, thresholds: Thresholds) -> Health:
    """rows: (platform, kind, when the newest live extraction finished, when the newest extraction of any kind
    finished). What is only ever read whole (SendOwl products) has no live window: its newest read counts."""
    limit = timedelta(hours=thresholds.max_extract_age_hours)
    stale = []
    details: dict[str, int | float] = {}
    for platform, kind, live_finished, finished_at in rows:
        newest = live_finished if live_finished is not None else finished_at
        age = now - newest
        details[f"{platform}.{kind}.hours"] = round(age.total_seconds() / 3600, 2)
        if age > limit:
            stale.append(f"{platform} {kind}: last live extraction finished {age.total_seconds() / 3600:.1f} h ago")
    if stale:
        return Health(False, "extraction is not keeping up: " + "; ".join(stale), details)
    if not rows:
        return Health(False, "nothing has been extracted yet", details)
    return Health(True, f"every live extraction is newer than {thresholds.max_extract_age_hours:g} h", details)


def identity_conflicts(rows: Sequence[tuple[str, str, str]]) -> Health:
    if not rows:
        return Health(True, "no ambiguous identities", {"conflicts": 0})
    sample = "; ".join(f"{p} {pid}: {reason}" for p, pid, reason in rows[:5])
    return Health(
        False, f"{len(rows)} record(s) match more than one person (not merged): {sample}", {"conflicts": len(rows)}
    )


def dead_writes(rows: Sequence[tuple[str, str, str, str, str | None, Any]]) -> Health:
    if not rows:
        return Health(True, "no write was given up on", {"dead": 0})
    sample = "; ".join(f"{platform} {op} for {person}: {error}" for _, platform, op, person, error, _ in rows[:5])
    return Health(False, f"{len(rows)} write(s) given up on (see sync_log): {sample}", {"dead": len(rows)})
