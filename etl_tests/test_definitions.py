"""The code location loads as `dagster dev` loads it, with every asset, job and schedule."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from etl_project.definitions import defs
from etl_project.defs.schedules import hourly_extract, nightly_reconciliation


def test_definitions_load() -> None:
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {"ghl_contacts", "ghl_tasks", "ghl_notes", "ghl_appointments"} <= keys
    assert repo.get_job("extract_job").partitions_def is not None
    assert {s.name for s in repo.schedule_defs} == {"hourly_extract", "nightly_reconciliation"}


def test_schedules_target_today_and_yesterday() -> None:
    when = datetime(2026, 11, 20, 13, 5, tzinfo=UTC)
    hourly = hourly_extract(dg.build_schedule_context(scheduled_execution_time=when))
    nightly = nightly_reconciliation(dg.build_schedule_context(scheduled_execution_time=when))
    assert hourly.partition_key == "2026-11-20" and hourly.tags["etl/mode"] == "incremental"
    assert nightly.partition_key == "2026-11-19" and nightly.tags["etl/mode"] == "full"
