"""Checks beyond the changesets, evaluated with every sync: quarantine share per extract, freshness of the live
windows, identity conflicts and dead writes. Warnings show in the UI; a stale extraction is an error (alerted)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster_duckdb import DuckDBResource

from etl_project.alerting import health
from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.resources import get_warehouse
from etl_project.warehouse.sql import load_sql

WARN, ERROR = dg.AssetCheckSeverity.WARN, dg.AssetCheckSeverity.ERROR


def _result(verdict: health.Health, severity: dg.AssetCheckSeverity) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=verdict.passed, description=verdict.message, metadata=verdict.details, severity=severity
    )


@dg.asset_check(asset="contact_identities", description="Share of each extract quarantined in the last day.")
def quarantine_share(duckdb: DuckDBResource, sync_config: SyncConfigResource) -> dg.AssetCheckResult:
    since = datetime.now(UTC) - timedelta(days=1)
    rows = get_warehouse(duckdb).query(load_sql("select_quarantine_shares"), {"since": since})
    return _result(health.quarantine_shares(rows, sync_config.load().thresholds), WARN)


@dg.asset_check(asset="contact_identities", description="Every platform's live extraction is recent.")
def extract_freshness(duckdb: DuckDBResource, sync_config: SyncConfigResource) -> dg.AssetCheckResult:
    rows = get_warehouse(duckdb).query(load_sql("select_extract_freshness"))
    return _result(health.freshness(rows, datetime.now(UTC), sync_config.load().thresholds), ERROR)


@dg.asset_check(asset="contact_identities", description="Records that match more than one person.")
def identity_conflicts(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    rows = get_warehouse(duckdb).query(load_sql("select_identity_conflicts"))
    return _result(health.identity_conflicts(rows), WARN)


@dg.asset_check(asset="activity_writes", description="Writes the sync gave up on, in either outbox.")
def dead_writes(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    rows = get_warehouse(duckdb).query(load_sql("select_dead_writes"))
    return _result(health.dead_writes(rows), WARN)


health_checks = [quarantine_share, extract_freshness, identity_conflicts, dead_writes]
