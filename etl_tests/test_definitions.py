"""The code location loads as `dagster dev` loads it, with every asset, job and schedule."""

from __future__ import annotations

import ast
import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

import etl_project
from etl_project.definitions import defs
from etl_project.defs.partitions import PARTITION_RANGE_END_TAG, PARTITION_RANGE_START_TAG
from etl_project.defs.schedules import hourly_extract, nightly_reconciliation

PRODUCT = ("definitions.py", "defs", "load", "extract", "sync", "warehouse", "platforms")


def test_definitions_load() -> None:
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {"ghl_contacts", "ghl_tasks", "ghl_notes", "ghl_appointments"} <= keys
    assert repo.get_job("extract_job").partitions_def is not None
    assert {s.name for s in repo.schedule_defs} == {"hourly_extract", "nightly_reconciliation"}
    assert {s.name for s in repo.sensor_defs} == {
        "onboarding_backfill",
        "sync_after_extract",
        "webhook_inbox_sensor",
        "location_registry",
        "alert_on_run_failure",
        "alert_on_failed_checks",
    }
    sync_keys = {k.to_user_string() for k in repo.get_job("sync_job").asset_layer.executable_asset_keys}
    assert {"contact_presence", "golden_contacts", "sendapp_writes", "highlevel_writes"} <= sync_keys
    checks = {c.name for c in repo.asset_graph.asset_check_keys}
    assert {"unique_platform_ids", "match_keys", "mass_change_guard"} <= checks


def test_schedules_target_today_and_yesterday() -> None:
    when = datetime(2026, 11, 20, 13, 5, tzinfo=UTC)
    [hourly] = hourly_extract(dg.build_schedule_context(scheduled_execution_time=when))
    [nightly] = nightly_reconciliation(dg.build_schedule_context(scheduled_execution_time=when))
    assert hourly.partition_key == "2026-11-20" and hourly.tags["etl/mode"] == "incremental"
    assert nightly.partition_key == "2026-11-19" and nightly.tags["etl/mode"] == "full"


def test_schedules_request_one_run_per_active_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from etl_project.tenants.resolve import tenancy

    monkeypatch.setenv("T_PIT", "pit-x")
    path = tmp_path / "locations.toml"
    path.write_text("".join(f'[[locations]]\nid = "{loc}"\nhighlevel_token_env = "T_PIT"\n' for loc in "abc"))
    monkeypatch.setenv("ETL_LOCATIONS_FILE", str(path))
    tenancy(str(path)).registry.pause("b", "HighLevel refused the credentials")
    when = datetime(2026, 11, 20, 13, 5, tzinfo=UTC)
    hourly = hourly_extract(dg.build_schedule_context(scheduled_execution_time=when))
    assert [(r.tags["etl/location"], r.partition_key, r.tags["etl/mode"]) for r in hourly] == [
        ("a", "2026-11-20", "incremental"),
        ("c", "2026-11-20", "incremental"),
    ]  # the paused location gets none
    assert len({r.run_key for r in hourly}) == 2


def test_the_instance_queues_sync_runs_one_at_a_time(tmp_path: Path) -> None:
    from etl_project.defs.sync_job import SYNC_TAG, sync_job

    assert SYNC_TAG in sync_job.tags
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((Path(__file__).parents[1] / "etl_project" / "dagster.yaml").read_text())
    with dg.DagsterInstance.from_config(str(home)) as instance:
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    assert {"key": SYNC_TAG, "limit": 1} in limits


def test_every_asset_that_calls_a_platform_sits_in_a_platform_pool() -> None:
    platforms = {"highlevel", "sendowl", "sendapp"}
    calling = [
        a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) and a.required_resource_keys & platforms
    ]
    assert len(calling) >= 13
    for asset in calling:
        assert asset.op.pool in {f"{p}_api" for p in platforms}, asset.key
    home_yaml = (Path(__file__).parents[1] / "etl_project" / "dagster.yaml").read_text()
    assert "default_limit: 1" in home_yaml


def test_the_catalog_names_owners_platforms_and_code() -> None:
    repo = defs.get_repository_def()
    for key in repo.asset_graph.get_all_asset_keys():
        node = repo.asset_graph.get(key)
        assert node.owners, key
        assert "dagster/code_references" in node.metadata, key
        if node.group_name == "extract":
            assert node.kinds & {"highlevel", "sendowl", "sendapp"}, key
    # What is rebuilt whole does not pretend to be a daily partition.
    for name in ("sendowl_customers", "sendowl_products"):
        assert repo.asset_graph.get(dg.AssetKey(name)).partitions_def is None


def test_the_project_is_a_dg_project(tmp_path: Path) -> None:
    """`dg check defs` and `dg list defs` work from the root, as the README says."""
    import subprocess
    import sys

    dg_cli = Path(sys.executable).parent / "dg"
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    checked = subprocess.run([dg_cli, "check", "defs"], cwd=root, env=env, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr
    listed = subprocess.run([dg_cli, "list", "defs", "--json"], cwd=root, env=env, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    assert '"ghl_contacts"' in listed.stdout and '"sync_job"' in listed.stdout


def test_the_partition_range_tags_are_the_ones_dagster_reads() -> None:
    assert (PARTITION_RANGE_START_TAG, PARTITION_RANGE_END_TAG) == (
        ASSET_PARTITION_RANGE_START_TAG,
        ASSET_PARTITION_RANGE_END_TAG,
    )


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_product_imports_neither_the_people_tools_nor_the_sandbox_extra() -> None:
    root = Path(etl_project.__file__).parent
    files = [p for part in PRODUCT for p in ([root / part] if part.endswith(".py") else (root / part).rglob("*.py"))]
    assert len(files) > 40
    for path in files:
        bad = {
            name
            for name in _imports(path)
            if name.split(".")[0] in {"fastapi", "uvicorn", "faker"}
            or name.startswith(("etl_project.devtools", "etl_project.sandbox"))
        }
        assert not bad, f"{path.relative_to(root)} imports {sorted(bad)}"
