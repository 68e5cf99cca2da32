"""Reconcile: platform record versions → identities (links, conflicts) → golden records. Pure: data in, data out."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from etl_project.sync.config import SyncConfig
from etl_project.sync.golden import FieldValue, merge_person
from etl_project.sync.history import field_change_times
from etl_project.sync.identity import Conflict, MatchInput, RecordKey, resolve
from etl_project.sync.normalise import normalise_email
from etl_project.sync.plan import canonical
from etl_project.sync.sources import GOLDEN_FIELDS, golden_values


@dataclass(frozen=True)
class Version:
    platform: str
    record_id: str
    payload: Mapping[str, Any]
    updated_at: datetime


# A value the sync itself wrote is not a user's edit: it competes in last-writer-wins as the oldest value there is.
SYNC_WRITTEN = datetime(1970, 1, 1, tzinfo=UTC)
# (platform, person) → golden field → (value the target acknowledged, the target's update time after that write)
Written = Mapping[tuple[str, str], Mapping[str, tuple[Any, datetime | None]]]


@dataclass(frozen=True)
class CurrentValues:
    """One record's latest normalised values, its person and its update time (what planning compares with)."""

    person_id: str
    values: Mapping[str, Any]
    version: datetime


@dataclass
class Reconciled:
    links: dict[RecordKey, str]
    matched_by: dict[RecordKey, str]
    conflicts: list[Conflict]
    golden: dict[str, dict[str, FieldValue]]
    platforms: dict[str, list[str]] = field(default_factory=dict)
    current: dict[RecordKey, CurrentValues] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        how = Counter(self.matched_by.values())
        return {
            "people": len(self.golden),
            "records": len(self.links),
            "in_two_or_more_platforms": sum(1 for p in self.platforms.values() if len(p) > 1),
            "matched_by_link": how.get("link", 0),
            "matched_by_email": how.get("email", 0),
            "matched_by_phone": how.get("phone", 0),
            "new_people": how.get("new", 0),
            "conflicts": len(self.conflicts),
        }


def _record_key(version: Version) -> RecordKey | None:
    # SendOwl has no customer resource: a buyer is identified by the normalised email on its orders.
    if version.platform == "sendowl":
        email = normalise_email(version.payload.get("buyer_email"))
        return ("sendowl", email) if email else None
    return (version.platform, version.record_id)


def _demote_sync_writes(
    changed: dict[str, datetime], values: Mapping[str, Any], written: Mapping[str, tuple[Any, datetime | None]]
) -> dict[str, datetime]:
    """Fields still holding what the sync wrote (unchanged since that write) lose every last-writer-wins tie."""
    out = dict(changed)
    for name, (value, stamp) in written.items():
        same = name in values and canonical(values[name]) == canonical(value)
        if same and (stamp is None or out.get(name, SYNC_WRITTEN) <= stamp):
            out[name] = SYNC_WRITTEN
    return out


def reconcile(
    versions: Iterable[Version],
    existing_links: Mapping[RecordKey, str],
    config: SyncConfig,
    written: Written | None = None,
) -> Reconciled:
    history: dict[RecordKey, list[tuple[datetime, dict[str, Any]]]] = defaultdict(list)
    for version in versions:
        key = _record_key(version)
        if key is not None:
            history[key].append(
                (version.updated_at, golden_values(version.platform, version.payload, config.default_region))
            )
    # The newest version; among equal times (a SendOwl order's versions share its sale time) the last one kept.
    latest = {key: max(enumerate(rows), key=lambda r: (r[1][0], r[0]))[1][1] for key, rows in history.items()}
    inputs = [MatchInput(p, pid, values.get("email"), values.get("phone")) for (p, pid), values in latest.items()]
    resolution = resolve(inputs, existing_links)

    by_person: dict[str, dict[str, list[FieldValue]]] = defaultdict(lambda: defaultdict(list))
    platforms: dict[str, set[str]] = defaultdict(set)
    current: dict[RecordKey, CurrentValues] = {}
    for key, person in resolution.links.items():
        if key not in history:
            continue  # a linked record that is gone (deleted upstream) contributes nothing
        changed = _demote_sync_writes(
            field_change_times(history[key]), latest[key], (written or {}).get((key[0], person), {})
        )
        current[key] = CurrentValues(person, latest[key], max(at for at, _ in history[key]))
        platforms[person].add(key[0])
        for name in GOLDEN_FIELDS:
            if name in latest[key]:
                by_person[person][name].append(FieldValue(key[0], latest[key][name], changed[name]))
    golden = {
        person: merge_person(fields, config.merge, config.platform_order)
        for person, fields in sorted(by_person.items())
    }
    return Reconciled(
        links={k: v for k, v in resolution.links.items() if k in history},
        matched_by=resolution.matched_by,
        conflicts=resolution.conflicts,
        golden=golden,
        platforms={p: sorted(v) for p, v in platforms.items()},
        current=current,
    )
