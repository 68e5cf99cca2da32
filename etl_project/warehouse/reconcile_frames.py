"""Shape a reconciliation into the DataFrames the warehouse lands (links, conflicts, golden records)."""

from __future__ import annotations

import json

import pandas as pd

from etl_project.sync.reconcile import Reconciled


def current_values_frame(result: Reconciled) -> pd.DataFrame:
    rows = []
    for (platform, platform_id), current in sorted(result.current.items()):
        value = current.values.get
        tags = value("tags")
        rows.append(
            (
                platform,
                platform_id,
                current.person_id,
                value("email"),
                value("phone"),
                value("first_name"),
                value("last_name"),
                sorted(tags) if tags else None,
                current.version,
            )
        )
    columns = ["platform", "platform_id", "person_id", "email", "phone", "first_name", "last_name", "tags", "version"]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def reconcile_frames(result: Reconciled) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    links = pd.DataFrame(
        [
            (p, pid, person, result.matched_by.get((p, pid), "link"))
            for (p, pid), person in sorted(result.links.items())
        ],
        columns=["platform", "platform_id", "person_id", "matched_by"],
        dtype=object,
    )
    conflicts = pd.DataFrame(
        [(c.platform, c.platform_id, c.reason, list(c.candidates)) for c in result.conflicts],
        columns=["platform", "platform_id", "reason", "candidates"],
        dtype=object,
    )
    rows = []
    for person, fields in result.golden.items():
        values = {name: fv.value for name, fv in fields.items()}
        value = values.get
        tags = value("tags")
        sources = {
            name: {"platform": fv.platform, "changed_at": fv.changed_at.isoformat()} for name, fv in fields.items()
        }
        rows.append(
            (
                person,
                value("email"),
                value("phone"),
                value("first_name"),
                value("last_name"),
                sorted(tags) if isinstance(tags, frozenset) else [],
                result.platforms.get(person, []),
                json.dumps(sources, sort_keys=True),
            )
        )
    golden = pd.DataFrame(
        rows,
        columns=["person_id", "email", "phone", "first_name", "last_name", "tags", "platforms", "field_sources"],
        dtype=object,
    )
    return links, conflicts, golden, current_values_frame(result)
