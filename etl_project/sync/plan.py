"""Diff planning: what a target platform is missing, as operations with deterministic idempotency keys.

For each person the desired state is the golden record restricted to the target's mapped fields, in canonical
form. It is compared with the freshest knowledge of the target's record: the latest extraction when it is at least
as new as the sync's last acknowledged write there, otherwise that acknowledged snapshot (the write has not been
extracted yet). Only fields that differ become an operation, so a value the sync wrote is never written again and a
value the target already holds is never echoed back.

An operation's idempotency key hashes the target, the person, the operation, its values and the version of the
target record it was planned against: planning again before anything changed gives the same key (the outbox stores
it once), while the same values planned against a newer version of the record (a user changed it back) is a new
operation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from etl_project.sync.config import TargetConfig

OpKind = Literal["create", "update", "delete"]
MATCH_KEYS = ("email", "phone")
# What a target needs to create a record: SendApp contacts are keyed by their WhatsApp number.
CREATE_KEYS: dict[str, tuple[str, ...]] = {"sendapp": ("phone",)}
# Where a platform takes custom field values in a write.
CUSTOM_FIELDS_KEY = {"highlevel": "customFields"}
# `deletes = "clear"` empties the mapped fields the sync manages, keeping the record and its match keys.
CLEARABLE = ("first_name", "last_name", "tags")


@dataclass(frozen=True)
class Operation:
    platform: str
    kind: OpKind
    person_id: str
    target_id: str | None
    fields: Mapping[str, Any]  # golden field → canonical value
    payload: Mapping[str, Any] = field(default_factory=dict)  # the platform's field names and formats
    idempotency_key: str = ""


@dataclass(frozen=True)
class TargetState:
    """What the sync knows of one person's record on the target."""

    target_id: str | None = None
    acked: Mapping[str, Any] = field(default_factory=dict)  # values the target acknowledged to the sync
    acked_version: datetime | None = None  # the target's update time right after that write
    observed: Mapping[str, Any] | None = None  # normalised values of the latest extraction (None: not seen)
    observed_version: datetime | None = None
    target_deleted: bool = False  # the linked record was deleted on the target
    upstream_deleted: bool = False  # every record of the person on the other platforms was deleted
    key_taken: bool = False  # the target holds another person's record with this email or phone (a conflict)

    def known(self) -> tuple[dict[str, Any], datetime | None]:
        """The freshest view of the target record's values, and the version it describes."""
        newer = self.acked_version is None or (
            self.observed_version is not None and self.observed_version >= self.acked_version
        )
        if self.observed is not None and newer:
            return {k: canonical(v) for k, v in self.observed.items()}, self.observed_version
        return {k: canonical(v) for k, v in self.acked.items()}, self.acked_version


def canonical(value: Any) -> Any:
    """One comparable, JSON-able form per value: tag sets become sorted lists, empties become None."""
    if isinstance(value, frozenset | set | list | tuple):
        return sorted(value) or None
    if value == "":
        return None
    return value


def render(platform: str, name: str, value: Any) -> Any:
    """A canonical value as the platform writes it (SendApp numbers are digits without '+'; no tags is [])."""
    if name == "tags":
        return list(value or [])
    if platform == "sendapp" and name == "phone" and isinstance(value, str):
        return value.lstrip("+")
    return value


def idempotency_key(
    platform: str, kind: str, person_id: str, fields: Mapping[str, Any], base: datetime | None = None
) -> str:
    """Same target, person, operation, values and base version → same key, on every run."""
    body = json.dumps(
        [platform, kind, person_id, fields, base.isoformat() if base else None],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _operation(
    platform: str,
    target: TargetConfig,
    kind: OpKind,
    person: str,
    state: TargetState,
    changes: Mapping[str, Any],
    base: datetime | None,
) -> Operation:
    ordered = dict(sorted(changes.items()))
    payload: dict[str, Any] = {target.fields[k]: render(platform, k, v) for k, v in ordered.items()}
    custom = [
        {"id": target.custom_fields[k], "field_value": render(platform, k, v)}
        for k, v in ordered.items()
        if k in target.custom_fields
    ]
    if custom:  # also written to the mapped custom fields (HighLevel: `customFields: [{id, field_value}]`)
        payload[CUSTOM_FIELDS_KEY.get(platform, "custom_fields")] = custom
    key = idempotency_key(platform, kind, person, ordered, base)
    return Operation(platform, kind, person, state.target_id, ordered, payload, key)


def plan_person(
    platform: str,
    target: TargetConfig,
    person: str,
    golden: Mapping[str, Any],
    state: TargetState,
    may_create: bool = False,
) -> Operation | None:
    """The one operation (or none) this person needs on the target."""
    desired = {name: canonical(golden[name]) for name in target.fields if name in golden}
    desired = {name: value for name, value in desired.items() if value is not None}
    known, base = state.known()
    if state.upstream_deleted and state.target_id is not None and not state.target_deleted:
        if target.deletes == "delete":
            return _operation(platform, target, "delete", person, state, {}, base)
        if target.deletes == "clear":
            cleared = {k: None for k in CLEARABLE if k in target.fields and known.get(k) is not None}
            return _operation(platform, target, "update", person, state, cleared, base) if cleared else None
        return None  # deletes = "ignore": the record stays as it is; nothing is pushed from its own values
    recreate = state.target_deleted and target.mode == "mirror"
    if state.target_id is None or recreate:
        if (target.mode == "update_only" and not may_create) or not any(
            k in desired for k in CREATE_KEYS.get(platform, MATCH_KEYS)
        ):
            return None  # creating is not this target's job, or there is nothing to create it with
        if state.key_taken:
            return None  # an unresolved identity conflict: never create a duplicate (see identity_conflicts)
        return _operation(platform, target, "create", person, state, desired, base if recreate else None)
    if target.mode == "insert_only" or state.target_deleted:
        return None  # a record the user deleted on the target is not brought back (except in mirror mode)
    changes = {k: v for k, v in desired.items() if v != known.get(k)}
    return _operation(platform, target, "update", person, state, changes, base) if changes else None


def expected_after(operation: Operation, state: TargetState) -> dict[str, Any]:
    """The target record's values once `operation` is acknowledged: the freshest known values with the operation's
    fields applied, canonical and without empties. The outbox stores it; an acknowledgement makes it the snapshot."""
    known, _ = state.known()
    after = {**known, **{k: canonical(v) for k, v in operation.fields.items()}}
    return {k: v for k, v in after.items() if v is not None}


def plan_target(
    platform: str,
    target: TargetConfig,
    golden: Mapping[str, Mapping[str, Any]],
    states: Mapping[str, TargetState],
    creatable: Collection[str] = (),
) -> list[Operation]:
    """Operations for one target, sorted by person (a person without a state is not on the target yet).
    `creatable`: people another flow needs on the target even in update-only mode (SendOwl buyers, flow 3)."""
    operations = []
    for person in sorted(golden):
        state = states.get(person, TargetState())
        op = plan_person(platform, target, person, golden[person], state, person in creatable)
        if op is not None:
            operations.append(op)
    return operations
