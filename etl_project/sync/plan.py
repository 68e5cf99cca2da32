"""Diff planning: what a target platform is missing, as operations with deterministic idempotency keys.

For each person the desired state is the golden record restricted to the target's mapped fields, in canonical
form. A field becomes part of an operation only when the desired value differs both from what the target last
acknowledged to the sync (its snapshot) and from what the target holds now (the latest extraction): a value the
sync itself wrote, or one the target already has, is never written again, so nothing echoes between platforms.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from etl_project.sync.config import TargetConfig

OpKind = Literal["create", "update"]
MATCH_KEYS = ("email", "phone")


@dataclass(frozen=True)
class Operation:
    platform: str
    kind: OpKind
    person_id: str
    target_id: str | None
    fields: Mapping[str, Any]  # golden field → canonical value
    payload: Mapping[str, Any] = field(default_factory=dict)  # the platform's field names and formats
    idempotency_key: str = ""


def canonical(value: Any) -> Any:
    """One comparable, JSON-able form per value: tag sets become sorted lists."""
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value


def render(platform: str, name: str, value: Any) -> Any:
    """A canonical value as the platform writes it (SendApp numbers are digits without '+')."""
    if platform == "sendapp" and name == "phone" and isinstance(value, str):
        return value.lstrip("+")
    return value


def idempotency_key(platform: str, kind: str, person_id: str, fields: Mapping[str, Any]) -> str:
    """Same person, target, operation and values → same key, on every run: the outbox stores it once."""
    body = json.dumps([platform, kind, person_id, fields], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def plan_target(
    platform: str,
    target: TargetConfig,
    golden: Mapping[str, Mapping[str, Any]],
    target_ids: Mapping[str, str],
    acknowledged: Mapping[str, Mapping[str, Any]],
    observed: Mapping[str, Mapping[str, Any]],
) -> list[Operation]:
    """Operations for one target, sorted by person. `target_ids`: person → the target's record id, if linked."""
    operations = []
    for person in sorted(golden):
        desired = {name: canonical(golden[person][name]) for name in target.fields if name in golden[person]}
        desired = {name: value for name, value in desired.items() if value not in (None, "", [])}
        target_id = target_ids.get(person)
        if target_id is None:
            if target.mode == "update_only" or not any(k in desired for k in MATCH_KEYS):
                continue  # nothing to create with, or creating is not this target's job
            kind: OpKind = "create"
            changes = desired
        else:
            if target.mode == "insert_only":
                continue
            acked = {k: canonical(v) for k, v in acknowledged.get(person, {}).items()}
            seen = {k: canonical(v) for k, v in observed.get(person, {}).items()}
            changes = {k: v for k, v in desired.items() if v != acked.get(k) and v != seen.get(k)}
            if not changes:
                continue
            kind = "update"
        payload = {target.fields[k]: render(platform, k, v) for k, v in sorted(changes.items())}
        operations.append(
            Operation(
                platform,
                kind,
                person,
                target_id,
                dict(sorted(changes.items())),
                payload,
                idempotency_key(platform, kind, person, changes),
            )
        )
    return operations
