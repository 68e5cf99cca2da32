"""Failures reach a person through a Slack-compatible webhook on loopback: at once when a person is needed, after a
second failure in a row when the fault is transient, once per cause for a failing check; each recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest
from dagster_duckdb import DuckDBResource

from etl_project.defs.alerts import AlertResource, alert_on_failed_checks, alert_on_run_failure
from etl_project.defs.highlevel_assets import ghl_contacts
from etl_project.defs.resources import HighLevelResource
from etl_project.sandbox.server import Sandbox
from etl_tests.conftest import LOCATION, TOKEN
from etl_tests.soak_world import Webhook


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A Slack-compatible incoming webhook on loopback (the soak's): records each JSON body posted to it."""
    webhook = Webhook()
    yield webhook.url, webhook.received
    webhook.close()


def _alerts(db: DuckDBResource) -> list[tuple[Any, ...]]:
    with db.get_connection() as con:
        return con.execute("SELECT kind, severity, delivered, text FROM alerts ORDER BY created_at").fetchall()


def _fail_and_alert(instance: dg.DagsterInstance, hl: HighLevelResource, db: DuckDBResource, url: str) -> None:
    result = dg.materialize(
        [ghl_contacts],
        instance=instance,
        resources={"highlevel": hl, "duckdb": db},
        partition_key="2026-11-20",
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    context = dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"alerts": AlertResource(webhook_url=url), "duckdb": db},
    ).for_run_failure()
    alert_on_run_failure(context)


def test_refused_credentials_alert_at_once_without_leaking_secrets(
    sandbox: Sandbox, hook: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, received = hook
    db = DuckDBResource(database=str(tmp_path / "w.duckdb"))
    wrong = HighLevelResource(base_url=sandbox.base_url("highlevel"), token="pit-wrong-token", location_id=LOCATION)
    with dg.instance_for_test() as instance:
        _fail_and_alert(instance, wrong, db, url)
    (posted,) = received
    assert "ghl_contacts" in posted["text"] or "failed" in posted["text"]
    assert "pit-wrong-token" not in posted["text"] and "/services/T000/" not in json.dumps(_alerts(db))
    assert [(k, s, d) for k, s, d, _ in _alerts(db)] == [("run_failure", "alert", True)]


def test_a_transient_fault_alerts_only_when_it_repeats(
    sandbox: Sandbox, hook: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, received = hook
    db = DuckDBResource(database=str(tmp_path / "w.duckdb"))
    hl = HighLevelResource(
        base_url=sandbox.base_url("highlevel"),
        token=TOKEN,
        location_id=LOCATION,
        max_attempts=2,
        max_total_wait_seconds=5,
    )
    admin = sandbox.base_url("highlevel") + "/_sandbox/faults"
    httpx.post(admin, json={"error_rate": 1.0, "error_status": 503}).raise_for_status()
    with dg.instance_for_test() as instance:
        _fail_and_alert(instance, hl, db, url)
        assert received == [], "the first transient failure is held: the next tick retries it"
        _fail_and_alert(instance, hl, db, url)
    assert len(received) == 1 and "failed too" in received[0]["text"]
    assert [s for _, s, _, _ in _alerts(db)] == ["held", "alert"]


def _checked(passed: bool, description: str) -> dg.AssetsDefinition:
    @dg.asset(name="sendapp_changeset", check_specs=[dg.AssetCheckSpec("mass_change_guard", asset="sendapp_changeset")])
    def _asset() -> dg.MaterializeResult:
        result = dg.AssetCheckResult(passed=passed, description=description, severity=dg.AssetCheckSeverity.ERROR)
        return dg.MaterializeResult(check_results=[result])

    return _asset


def test_a_failing_check_alerts_once_per_cause(hook: tuple[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    url, received = hook
    db = DuckDBResource(database=str(tmp_path / "w.duckdb"))
    blocked = "sendapp: blocked: the plan updates {n} of 40 records; add the tag etl/approve = sendapp-0123456789 ..."
    cursor = None
    with dg.instance_for_test() as instance:
        for passed, text in [
            (False, blocked.format(n=15)),
            (False, blocked.format(n=16)),  # the same cause an hour later: not told again
            (True, "within thresholds"),
            (False, blocked.format(n=17)),  # failing again after it passed: told again
        ]:
            asset = _checked(passed, text)
            assert dg.materialize([asset], instance=instance).success
            context = dg.build_sensor_context(
                instance=instance,
                cursor=cursor,
                resources={"alerts": AlertResource(webhook_url=url), "duckdb": db},
                definitions=dg.Definitions(assets=[asset]),
            )
            alert_on_failed_checks(context)
            cursor = context.cursor
    assert [p["text"].split(":")[1].strip() for p in received] == [
        "check sendapp_changeset.mass_change_guard failed"
    ] * 2
    assert "etl/approve = sendapp-0123456789" in received[0]["text"]
