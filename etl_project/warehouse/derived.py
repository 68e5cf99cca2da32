"""Derived tables: SendOwl buyers, identity links and conflicts, golden records. Short transactions, as in
`store.py`; the data reaches SQL as bound parameters or registered DataFrames."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from etl_project.platforms.fields import parse_instant
from etl_project.sync.reconcile import Version
from etl_project.warehouse.sql import load_sql
from etl_project.warehouse.store import Warehouse
from etl_project.warehouse.tables import kind_table


def _contact_versions_sql() -> str:
    return load_sql("select_contact_versions").format(
        highlevel_updated=kind_table("highlevel", "contacts").payload_updated_sql("r.payload"),
        sendapp_updated=kind_table("sendapp", "contacts").payload_updated_sql("r.payload"),
    )


@dataclass(frozen=True)
class DerivedTables:
    warehouse: Warehouse

    def rebuild_sendowl_customers(self) -> dict[str, int]:
        """Rebuild the buyer table from current orders (one transaction); returns a few totals for metadata."""
        with self.warehouse.transaction() as con:
            con.execute("DELETE FROM sendowl_customers")
            con.execute(load_sql("insert_sendowl_customers"), {"rebuilt_at": datetime.now(UTC)})
            row = con.execute(load_sql("summarise_sendowl_customers")).fetchone()
        customers, repeat, refunded = row or (0, 0, 0)
        return {"customers": customers, "repeat_buyers": repeat, "with_refunds": refunded}

    def contact_versions(self) -> list[Version]:
        """Every kept version of every current contact-like record, decoded; a version whose payload states no
        readable update time is left out (it cannot compete by time)."""
        with self.warehouse.connect() as con:
            rows = con.execute(_contact_versions_sql()).fetchall()
        return [Version(p, rid, json.loads(payload), at) for p, rid, payload, at in rows if at is not None]

    def identity_links(self) -> dict[tuple[str, str], str]:
        sql = "SELECT platform, platform_id, person_id FROM identity_links"
        with self.warehouse.connect() as con:
            return {(p, i): person for p, i, person in con.execute(sql).fetchall()}

    def save_reconciliation(
        self, links: pd.DataFrame, conflicts: pd.DataFrame, golden: pd.DataFrame, current_values: pd.DataFrame
    ) -> None:
        """New links are added (existing ones are never rewritten); the rest is replaced, in one transaction."""
        now = datetime.now(UTC)
        with self.warehouse.transaction() as con:
            con.register("links", links)
            con.register("conflicts", conflicts)
            con.register("golden", golden)
            con.register("current_values", current_values)
            con.execute(load_sql("upsert_identity_links"), {"linked_at": now})
            con.execute("DELETE FROM identity_conflicts")
            if len(conflicts):
                con.execute(load_sql("replace_identity_conflicts"), {"detected_at": now})
            con.execute("DELETE FROM golden_contacts")
            if len(golden):
                con.execute(load_sql("replace_golden_contacts"), {"computed_at": now})
            con.execute("DELETE FROM contact_values")
            if len(current_values):
                con.execute(load_sql("replace_contact_values"))

    def written_snapshots(self) -> dict[tuple[str, str], dict[str, tuple[Any, datetime | None]]]:
        """(platform, person) → field → (value the sync last wrote to it there, the target's time after that write)."""
        with self.warehouse.connect() as con:
            rows = con.execute("SELECT platform, person_id, written_values FROM target_snapshots").fetchall()
        out: dict[tuple[str, str], dict[str, tuple[Any, datetime | None]]] = {}
        for platform, person, written in rows:
            entries = json.loads(written) if written else {}
            out[(platform, person)] = {
                name: (value, parse_instant(at) if at else None) for name, (value, at) in entries.items()
            }
        return out
