"""The webhook sensor: a burst coalesces into one targeted run, claims complete when the run succeeded and go back
to the inbox when it failed; the targeted job re-reads exactly the named records (real HTTP against the sandbox)
and then syncs."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import httpx
import pytest

from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.sync_run import SYNC_ASSETS
from etl_project.defs.webhook_run import WEBHOOK_ASSETS, run_config, webhook_sync_job
from etl_project.defs.webhook_sensor import BATCH_TAG, drain
from etl_project.extract.targeted import Targets
from etl_project.sandbox.server import Sandbox
from etl_project.webhooks import Inbox, InboxEvent
from etl_tests.conftest import HEADERS


def _event(platform: str, kind: str, record: str | None, contact: str | None = None) -> InboxEvent:
    stamp = datetime.now(UTC).isoformat()
    key = f"test:{uuid.uuid4().hex}"
    return InboxEvent(platform, f"{kind}-event", None, kind, record, contact, key, stamp, b"{}")


@pytest.fixture
def inbox_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "inbox.sqlite3"
    Inbox(path).close()
    yield path


def _append(path: Path, events: list[InboxEvent]) -> None:
    inbox = Inbox(path, synchronous="normal")
    try:
        for event in events:
            assert inbox.append(event)
    finally:
        inbox.close()


def _counts(path: Path) -> dict[str, int]:
    inbox = Inbox(path)
    try:
        return inbox.counts()
    finally:
        inbox.close()


def _burst() -> list[InboxEvent]:
    """500 events naming 20 contacts, 10 contacts' tasks, 5 contacts' notes, 7 orders, and a few names nothing."""
    events = [_event("highlevel", "contact", f"ct-{n % 20:02d}", f"ct-{n % 20:02d}") for n in range(300)]
    events += [_event("highlevel", "task", f"tk-{n}", f"ct-{n % 10:02d}") for n in range(100)]
    events += [_event("highlevel", "note", f"nt-{n}", f"ct-{n % 5:02d}") for n in range(50)]
    events += [_event("sendowl", "order", str(4000 + n % 7)) for n in range(45)]
    events += [_event("highlevel", "task", "tk-orphan", None) for _ in range(3)]  # TaskCreate without contactId
    events += [_event("highlevel", "location", "loc-1") for _ in range(2)]
    return events


def _tick(instance: dg.DagsterInstance, path: Path, cursor: str | None) -> dg.SensorResult | dg.SkipReason:
    return drain(dg.build_sensor_context(instance=instance, cursor=cursor), path)


def _request(result: dg.SensorResult | dg.SkipReason) -> dg.RunRequest:
    assert isinstance(result, dg.SensorResult)
    (request,) = result.run_requests or []
    assert isinstance(request, dg.RunRequest)
    return request


@dg.op
def _succeeds() -> None:
    pass


@dg.op
def _fails() -> None:
    raise RuntimeError("the targeted run failed")


@dg.job
def good_run() -> None:
    _succeeds()


@dg.job
def bad_run() -> None:
    _fails()


def test_a_burst_of_500_events_is_one_run_with_each_record_once(inbox_path: Path) -> None:
    _append(inbox_path, _burst())
    with dg.instance_for_test() as instance:
        result = _tick(instance, inbox_path, None)
        request = _request(result)
        config = request.run_config["ops"]
        hl, so = config["webhook_highlevel_refresh"]["config"], config["webhook_sendowl_refresh"]["config"]
        assert hl["contacts"] == [f"ct-{n:02d}" for n in range(20)]
        assert hl["tasks"] == [f"ct-{n:02d}" for n in range(10)]
        assert hl["notes"] == [f"ct-{n:02d}" for n in range(5)]
        assert hl["appointments"] == []
        assert so["orders"] == [str(4000 + n) for n in range(7)]
        assert request.tags["etl/webhook-events"] == "500" and request.tags[BATCH_TAG]
        assert _counts(inbox_path) == {"pending": 0, "claimed": 500, "done": 0}
        # While that run has not finished, new events wait: the next run takes them all together.
        _append(inbox_path, [_event("highlevel", "contact", "ct-new", "ct-new")])
        waiting = _tick(instance, inbox_path, result.cursor)
        assert isinstance(waiting, dg.SensorResult) and not waiting.run_requests
        assert _counts(inbox_path)["pending"] == 1


def test_claims_complete_when_the_run_succeeded(inbox_path: Path) -> None:
    _append(inbox_path, _burst()[:40])
    with dg.instance_for_test() as instance:
        first = _tick(instance, inbox_path, None)
        request = _request(first)
        assert good_run.execute_in_process(instance=instance, tags=request.tags).success
        settled = _tick(instance, inbox_path, first.cursor)
        assert isinstance(settled, dg.SensorResult) and not settled.run_requests
        assert _counts(inbox_path) == {"pending": 0, "claimed": 0, "done": 40}
        assert '"pending": {}' in (settled.cursor or "")


def test_claims_go_back_to_the_inbox_when_the_run_failed(inbox_path: Path) -> None:
    _append(inbox_path, _burst()[:40])
    with dg.instance_for_test() as instance:
        first = _tick(instance, inbox_path, None)
        request = _request(first)
        assert not bad_run.execute_in_process(instance=instance, tags=request.tags, raise_on_error=False).success
        retried = _tick(instance, inbox_path, first.cursor)
        # Released, then claimed again in the same tick: a new run for the same records.
        again = _request(retried)
        assert again.run_config == request.run_config and again.tags[BATCH_TAG] != request.tags[BATCH_TAG]
        inbox = Inbox(inbox_path)
        try:
            assert inbox.counts() == {"pending": 0, "claimed": 40, "done": 0}
        finally:
            inbox.close()
        assert good_run.execute_in_process(instance=instance, tags=again.tags).success
        _tick(instance, inbox_path, retried.cursor)
        assert _counts(inbox_path)["done"] == 40


def test_events_that_name_nothing_to_re_read_are_done_without_a_run(inbox_path: Path) -> None:
    _append(inbox_path, [_event("highlevel", "location", "loc-1"), _event("highlevel", "task", "tk-1", None)])
    with dg.instance_for_test() as instance:
        result = _tick(instance, inbox_path, None)
        assert isinstance(result, dg.SensorResult) and not result.run_requests
        assert _counts(inbox_path)["done"] == 2


def test_many_locations_each_get_their_own_run_and_the_batch_settles_when_all_succeeded(
    inbox_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T_PIT", "pit-x")
    locations = tmp_path / "locations.toml"
    locations.write_text(
        'data_dir = "data"\n'
        + "".join(f'[[locations]]\nid = "{loc}"\nhighlevel_token_env = "T_PIT"\n' for loc in ("loc-a", "loc-b"))
    )
    monkeypatch.setenv("ETL_LOCATIONS_FILE", str(locations))

    def at(location: str | None, contact: str) -> InboxEvent:
        return dataclasses.replace(_event("highlevel", "contact", contact, contact), location_id=location)

    # Two synced locations, one the registry does not know, and a SendOwl order (it names no location).
    _append(inbox_path, [at("loc-a", "ct-1"), at("loc-a", "ct-2"), at("loc-b", "ct-3"), at("loc-z", "ct-4")])
    _append(inbox_path, [_event("sendowl", "order", "4001")])
    with dg.instance_for_test() as instance:
        first = _tick(instance, inbox_path, None)
        assert isinstance(first, dg.SensorResult)
        requests = {r.tags["etl/location"]: r for r in first.run_requests or [] if isinstance(r, dg.RunRequest)}
        assert sorted(requests) == ["loc-a", "loc-b"]
        assert requests["loc-a"].run_config["ops"]["webhook_highlevel_refresh"]["config"]["contacts"] == [
            "ct-1",
            "ct-2",
        ]
        assert requests["loc-b"].run_config["ops"]["webhook_highlevel_refresh"]["config"]["contacts"] == ["ct-3"]
        # One location's run done: the batch waits for the other before anything is marked done.
        assert good_run.execute_in_process(instance=instance, tags=requests["loc-a"].tags).success
        waiting = _tick(instance, inbox_path, first.cursor)
        assert _counts(inbox_path)["done"] == 0
        assert good_run.execute_in_process(instance=instance, tags=requests["loc-b"].tags).success
        assert isinstance(waiting, dg.SensorResult)
        _tick(instance, inbox_path, waiting.cursor)
        assert _counts(inbox_path) == {"pending": 0, "claimed": 0, "done": 5}


def test_no_inbox_yet_is_a_skip(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        assert isinstance(_tick(instance, tmp_path / "absent.sqlite3", None), dg.SkipReason)
    assert not (tmp_path / "absent.sqlite3").exists()


# -- the targeted job, against the sandbox ------------------------------------------------------------------------


def _rows(resources: dict[str, Any], sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with duckdb.connect(resources["duckdb"].database, read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _job(resources: dict[str, Any]) -> dg.JobDefinition:
    defs = dg.Definitions(
        assets=[*WEBHOOK_ASSETS, *SYNC_ASSETS],
        jobs=[webhook_sync_job],
        resources={**resources, "sync_config": SyncConfigResource()},
    )
    return defs.resolve_job_def("webhook_sync_job")


@pytest.mark.usefixtures("history")
def test_the_targeted_run_re_reads_the_named_records_then_syncs(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    hl_store = sandbox.platforms["highlevel"].store
    edited, tasked, deleted = sorted(hl_store.contacts)[:3]
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS, timeout=10) as api:
        api.put(f"/contacts/{edited}", json={"companyName": "Webhook Works Ltd"}).raise_for_status()
        new_task = api.post(
            f"/contacts/{tasked}/tasks",
            json={"title": "Hooked task", "dueDate": "2030-01-01T00:00:00Z", "completed": False},
        ).json()["task"]
        gone_tasks = list(hl_store.tasks.get(deleted, {}))
        api.delete(f"/contacts/{deleted}").raise_for_status()
    product = next(iter(sandbox.platforms["sendowl"].store.products))
    sale = {"product_id": product, "buyer_email": "hook.buyer@example.com", "buyer_name": "Hook Buyer"}
    order = httpx.post(f"{sandbox.base_url('sendowl')}/_sandbox/sendowl/purchase", json=sale, timeout=10).json()
    order_id = str(order["order"]["id"])
    events = [
        _event("highlevel", "contact", edited, edited),
        _event("highlevel", "contact", edited, edited),  # a duplicate: one read
        _event("highlevel", "task", new_task["id"], tasked),
        _event("highlevel", "contact", deleted, deleted),
        _event("sendowl", "order", order_id),
        _event("sendowl", "order", "999999999"),  # an order SendOwl does not have: marked deleted, not an error
    ]
    targets = Targets.from_events(events)
    assert targets.reads == 5
    for p in sandbox.platforms.values():
        p.stats.reset()
    with dg.instance_for_test() as instance:
        result = _job(resources).execute_in_process(run_config=run_config(targets), instance=instance)
    assert result.success
    started = [e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START]
    assert set(started[:2]) == {"webhook_highlevel_refresh", "webhook_sendowl_refresh"}  # before the sync
    assert "reconcile_contacts" in started
    reads = sandbox.platforms["highlevel"].stats.by_route
    assert reads["GET /contacts/{id}"] == 2 and reads["GET /contacts/{id}/tasks"] == 1
    assert sandbox.platforms["sendowl"].stats.by_route["GET /api/v1_3/orders/{id}"] == 2
    assert _rows(resources, "SELECT company_name, is_deleted FROM ghl_contacts WHERE id = ?", edited) == [
        ("Webhook Works Ltd", False)
    ]
    assert _rows(resources, "SELECT is_deleted FROM ghl_contacts WHERE id = ?", deleted) == [(True,)]
    if gone_tasks:
        placeholders = ",".join("?" for _ in gone_tasks)
        flags = _rows(resources, f"SELECT DISTINCT is_deleted FROM ghl_tasks WHERE id IN ({placeholders})", *gone_tasks)
        assert flags == [(True,)]
    assert _rows(resources, "SELECT contact_id FROM ghl_tasks WHERE id = ?", new_task["id"]) == [(tasked,)]
    assert _rows(resources, "SELECT count(*) FROM sendowl_orders WHERE id = ?", int(order_id)) == [(1,)]
    assert _rows(resources, "SELECT count(*) FROM sendowl_customers WHERE email = ?", "hook.buyer@example.com")[0][0]
