"""Golden records: one value per field per person, by the configured merge policy.

A field either has a source of truth (that platform's value wins whenever it has one) or is last-writer-wins by
the time each platform's value last *changed* (derived from successive extractions, not from the record's update
time, which moves whenever any field moves). Ties break by the configured platform order, so the same inputs
always give the same golden record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from etl_project.sync.config import FieldPolicy


@dataclass(frozen=True)
class FieldValue:
    platform: str
    value: Any
    changed_at: datetime


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == frozenset() or value == ()


def pick(values: Sequence[FieldValue], policy: FieldPolicy, platform_order: Sequence[str]) -> FieldValue | None:
    """The winning value of one field, or None when no platform has one."""
    present = [v for v in values if not _empty(v.value)]
    if not present:
        return None
    rank = {p: i for i, p in enumerate(platform_order)}
    if policy.strategy == "source":
        from_source = [v for v in present if v.platform == policy.source]
        if from_source:
            return from_source[0]
        if policy.fallback == "none":
            return None
    # Last writer wins; on equal times the platform listed first wins.
    return max(present, key=lambda v: (v.changed_at, -rank.get(v.platform, len(rank))))


def merge_person(
    fields: Mapping[str, Sequence[FieldValue]],
    policies: Mapping[str, FieldPolicy],
    platform_order: Sequence[str],
) -> dict[str, FieldValue]:
    """The golden record of one person: field → winning value (fields nobody has are left out)."""
    golden: dict[str, FieldValue] = {}
    for name in sorted(fields):
        winner = pick(fields[name], policies.get(name, FieldPolicy()), platform_order)
        if winner is not None:
            golden[name] = winner
    return golden
