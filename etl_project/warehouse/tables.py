"""The fixed registry of landed record kinds: which table each lands in and how its current state merges.

Table names reach SQL text only from this registry (identifiers cannot be bound parameters); data never does.
"""

from __future__ import annotations

from dataclasses import dataclass

from etl_project.platforms.highlevel.models import CONTACT_UPDATED_FIELDS


@dataclass(frozen=True)
class KindTable:
    platform: str
    kind: str
    table: str
    child_of: str | None = None  # children are fetched as a whole list per parent
    updated_column: str = "updated_at"  # for parents: the column children selection filters on
    payload_updated: tuple[str, ...] = ("updated_at",)  # the same, in a raw payload: the first with a value
    # For parents: what a record id must look like to fetch children by it (a quarantined record's id may not).
    id_pattern: str = ".+"

    @property
    def merge_sql(self) -> str:
        return f"merge_into_{self.table}"

    def payload_updated_sql(self, payload: str) -> str:
        """SQL text of a raw payload's update time (a string; NULL when absent). `payload` is a column expression."""
        fields = ", ".join(f"{payload} ->> '{f}'" for f in self.payload_updated)
        return f"COALESCE({fields}, NULL)"


KINDS: dict[tuple[str, str], KindTable] = {
    (k.platform, k.kind): k
    for k in (
        KindTable(
            "highlevel",
            "contacts",
            "ghl_contacts",
            updated_column="date_updated",
            payload_updated=CONTACT_UPDATED_FIELDS,
        ),
        KindTable("highlevel", "tasks", "ghl_tasks", child_of="contacts"),
        KindTable("highlevel", "notes", "ghl_notes", child_of="contacts"),
        KindTable("highlevel", "appointments", "ghl_appointments", child_of="contacts"),
        KindTable("sendowl", "orders", "sendowl_orders"),
        KindTable("sendowl", "products", "sendowl_products"),
        KindTable("sendapp", "contacts", "sendapp_contacts", id_pattern="[0-9]+"),
        KindTable("sendapp", "tasks", "sendapp_tasks", child_of="contacts"),
        KindTable("sendapp", "notes", "sendapp_notes", child_of="contacts"),
    )
}


def kind_table(platform: str, kind: str) -> KindTable:
    try:
        return KINDS[(platform, kind)]
    except KeyError:
        raise ValueError(f"no warehouse table for {platform}/{kind}") from None
