"""Turn extraction reports into the metadata a person reads in the Dagster UI."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import dagster as dg

from etl_project.extract.runs import ExtractReport
from etl_project.warehouse.store import Warehouse, Window


def extract_metadata(reports: Sequence[ExtractReport], windows: Sequence[Window]) -> dict[str, Any]:
    land = [r.land for r in reports]
    reasons: Counter[str] = Counter()
    for r in reports:
        reasons.update(r.reasons)
    last = reports[-1].rate if reports else None
    meta: dict[str, Any] = {
        "records": sum(x.records for x in land),
        "new": sum(x.new_records for x in land),
        "changed": sum(x.changed for x in land),
        "versions_added": sum(x.versions_added for x in land),
        "quarantined": sum(x.quarantined for x in land),
        "deleted": sum(x.deleted for x in land),
        "requests": sum(r.requests for r in reports),
        "partitions": len(windows),
        "read_from": dg.MetadataValue.text(min(w.read_from for w in windows).isoformat()) if windows else None,
        "read_to": dg.MetadataValue.text(max(w.read_to for w in windows).isoformat()) if windows else None,
    }
    if any(r.parents for r in reports):
        meta["parents_fetched"] = sum(r.parents for r in reports)
        meta["parents_missing"] = sum(r.missing_parents for r in reports)
    if last is not None and last.daily_remaining is not None:
        meta["daily_left"] = last.daily_remaining
        meta["burst_left"] = last.burst_remaining
    if reasons:
        meta["quarantine_reasons"] = markdown_table(["reason", "records"], reasons.most_common(10))
    return {k: v for k, v in meta.items() if v is not None}


def partition_result(
    context: dg.AssetExecutionContext,
    reports: Sequence[ExtractReport],
    windows: Sequence[Window],
    table: dict[str, Any] | None = None,
) -> dg.MaterializeResult:
    """Each partition shows its own counts: a single-run backfill of 90 days books 90 different ledgers, not the
    run's totals 90 times (the totals go to the run's log)."""
    if len(windows) > 1 and len(reports) == len(windows):
        for report, window in zip(reports, windows, strict=True):
            context.add_asset_metadata(extract_metadata([report], [window]), partition_key=window.partition_key)
        totals = extract_metadata(reports, windows)
        context.log.info(f"{len(windows)} partitions: {totals['records']} records, {totals['requests']} requests")
        return dg.MaterializeResult(metadata=table or {})
    return dg.MaterializeResult(metadata={**extract_metadata(reports, windows), **(table or {})})


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> dg.MetadataValue:
    """A small Markdown table for a sample of rows (None shows as an empty cell)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return dg.MetadataValue.md("\n".join(lines))


def table_metadata(warehouse: Warehouse, table: str) -> dict[str, Any]:
    """The catalog's view of a warehouse table: its name, column schema and row count."""
    columns, rows = warehouse.table_facts(table)
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn(name, kind, constraints=dg.TableColumnConstraints(nullable=null))
            for name, kind, null in columns
        ]
    )
    return {"dagster/table_name": f"warehouse.main.{table}", "dagster/column_schema": schema, "dagster/row_count": rows}
