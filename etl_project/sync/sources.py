"""Platform records → the golden fields, normalised. One mapping per platform, as the extraction lands them.

`GOLDEN_FIELDS` and `PAYLOAD_FIELDS` are the one table of which fields the sync keeps and what each platform calls
them: reading (here), writing (a config target's `fields` defaults to it, `sync/config.py`) and the configuration's
validation all take the names from here. docs/reconcile.md, "Adding a field", lists the rest of the chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from etl_project.sync.normalise import normalise_email, normalise_name, normalise_phone, normalise_tags

# The golden fields, in the order golden records list them.
GOLDEN_FIELDS = ("email", "phone", "first_name", "last_name", "tags")

# Payload field names per platform, golden field → platform field (read, and by default written, by that name).
PAYLOAD_FIELDS: dict[str, dict[str, str]] = {
    "highlevel": {
        "email": "email",
        "phone": "phone",
        "first_name": "firstName",
        "last_name": "lastName",
        "tags": "tags",
    },
    "sendapp": {
        "email": "email",
        "phone": "number",
        "first_name": "first_name",
        "last_name": "last_name",
        "tags": "tags",
    },
    "sendowl": {"email": "buyer_email", "first_name": "buyer_name"},
}


def golden_values(platform: str, payload: Mapping[str, Any], region: str) -> dict[str, Any]:
    """Normalised golden-field values of one raw record (absent fields are left out)."""
    names = PAYLOAD_FIELDS[platform]
    out: dict[str, Any] = {}
    for golden, source in names.items():
        if source not in payload:
            continue
        raw = payload[source]
        if golden == "email":
            out[golden] = normalise_email(raw)
        elif golden == "phone":
            out[golden] = normalise_phone(raw, region)
        elif golden == "tags":
            out[golden] = normalise_tags(raw)
        else:
            out[golden] = normalise_name(raw)
    if platform == "sendowl" and out.get("first_name"):
        # SendOwl has one buyer_name: split it like a person would read it.
        first, _, last = str(out["first_name"]).partition(" ")
        out["first_name"], out["last_name"] = first, normalise_name(last)
    return out
