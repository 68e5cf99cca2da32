"""When did each field's current value appear? Derived from the successive versions the extractions kept.

A record's update time moves when *any* field changes; last-writer-wins needs the time *this* field changed. Given
a record's versions (oldest first, each with its update time and normalised field values), a field's change time
is the update time of the first version of the final run of equal values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any


def field_change_times(versions: Sequence[tuple[datetime, Mapping[str, Any]]]) -> dict[str, datetime]:
    ordered = sorted(versions, key=lambda v: v[0])
    if not ordered:
        return {}
    changed: dict[str, datetime] = {}
    previous: Mapping[str, Any] = {}
    for stamp, values in ordered:
        for name, value in values.items():
            if name not in changed or previous.get(name) != value:
                changed[name] = stamp
        previous = values
    return changed
