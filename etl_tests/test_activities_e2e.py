"""Flows 3, 5 and 6 end to end through Dagster against the sandboxes: each sale, note, appointment and welcome
written exactly once, across re-runs, backfills and lost answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from etl_project.defs.resources import SendAppResource, get_warehouse
from etl_project.sandbox.server import Sandbox
from etl_project.sync.activities import marker
from etl_project.warehouse.activities import ActivityOutbox
from etl_tests.conftest import HEADERS, LOCATION, SENDAPP_CHANNEL, SENDAPP_KEY
from etl_tests.starting_states import RecordedRun
from etl_tests.sync_helpers import ALL_FLOWS, extract, metadata, reset_stats, sync, write_requests
from etl_tests.test_reconcile_e2e import rows

pytestmark = pytest.mark.e2e


def hl_children(sandbox: Sandbox, kind: str) -> list[dict[str, Any]]:
    store = sandbox.platforms["highlevel"].store
    return [{**c, "contact_id": cid} for cid, by_id in getattr(store, kind).items() for c in by_id.values()]


def test_sales_notes_and_welcomes_are_written_once(
    sandbox: Sandbox, resources: dict[str, Any], synced: RecordedRun
) -> None:
    first = synced  # the first all-flows sync after the history
    assert first.success
    meta = metadata(first)
    assert meta["activity_changeset"]["new"] > 0
    sales = rows(
        resources,
        "SELECT o.id, o.refunded, o.state FROM sendowl_orders o WHERE o.state IN ('complete', 'subscription_active') "
        "AND o.buyer_email IS NOT NULL AND NOT o.is_deleted",
    )
    assert sales, "the seed has completed orders"
    done = dict(
        rows(resources, "SELECT source_ref || operation, status FROM activity_outbox WHERE flow LIKE 'sendowl%'")
    )
    keys = rows(
        resources, "SELECT idempotency_key, source_ref, operation FROM activity_outbox WHERE flow LIKE 'sendowl%'"
    )

    # Flow 3: every completed order → exactly one task and one note on the buyer's HighLevel contact.
    tasks, notes = hl_children(sandbox, "tasks"), hl_children(sandbox, "notes")
    for key, order_id, operation in keys:
        if operation in ("create_task", "create_note") and done[order_id + operation] == "acknowledged":
            made = [t for t in (tasks if operation == "create_task" else notes) if marker(key) in (t.get("body") or "")]
            assert len(made) == 1, (order_id, operation)
    contact_of = dict(
        rows(
            resources,
            "SELECT a.source_ref, a.parent_id FROM activity_outbox a WHERE a.operation = 'create_task' "
            "AND a.status = 'acknowledged' AND a.flow = 'sendowl_purchases_to_highlevel'",
        )
    )
    for contact in contact_of.values():
        hl_tags = sandbox.platforms["highlevel"].store.contacts[contact]["tags"]
        assert "sendowl-customer" in hl_tags and any(t.startswith("bought:") for t in hl_tags)
    refunds = [o for o, refunded, _ in sales if refunded]
    if refunds:
        assert (
            rows(
                resources,
                "SELECT count(*) FROM activity_outbox WHERE source_ref = ? AND operation = 'add_tags'",
                [refunds[0]],
            )[0][0]
            == 2
        )
    # Flow 5: HighLevel notes copied to SendApp, once each.
    copied = [
        n
        for by_id in sandbox.platforms["sendapp"].store.notes.values()
        for n in by_id.values()
        if n["body"].startswith("HighLevel note:")
    ]
    assert (
        len(copied)
        == rows(
            resources,
            "SELECT count(*) FROM activity_outbox WHERE operation = 'create_note' AND platform = 'sendapp' "
            "AND flow = 'highlevel_activity_to_sendapp' AND source_ref IN (SELECT id FROM ghl_notes) "
            "AND status = 'acknowledged'",
        )[0][0]
        > 0
    )
    # Flow 6: the first run only sets the baseline: nobody already known is "new".
    assert sandbox.platforms["sendapp"].store.messages == []

    # A new HighLevel contact with a phone: one welcome message, and a note in HighLevel saying so.
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS) as hl:
        body = {"locationId": LOCATION, "firstName": "Wren", "email": "wren@example.com", "phone": "+14155550142"}
        wren = hl.post("/contacts/", json=body).json()["contact"]["id"]
    # (The first sync tagged every buyer in HighLevel; those tags now reach SendApp: a legitimate mass update.)
    # SendApp refuses the first attempt (429 until the client stops waiting): a refusal proves nothing went out, so
    # the send is retried by the next run, and sent once. (A 5xx would not prove it: see test_faults_e2e.)
    faults = sandbox.platforms["sendapp"].faults
    faults.error_rate, faults.error_path, faults.error_status = 1.0, "/api/whatsapp-meta/send", 429
    impatient = SendAppResource(
        base_url=sandbox.api_url("sendapp"),
        api_key=SENDAPP_KEY,
        channel_token=SENDAPP_CHANNEL,
        min_interval_seconds=0.0,
        max_total_wait_seconds=1.0,
    )
    extract(resources)
    assert sync({**resources, "sendapp": impatient}, ALL_FLOWS).success
    assert sandbox.platforms["sendapp"].store.messages == []
    welcome = "SELECT status, attempts, last_error FROM activity_outbox WHERE operation = 'send_message'"
    ((status, attempts, error),) = rows(resources, welcome)
    assert (status, attempts) == ("failed", 1), (status, attempts)
    assert "429" in error, error
    faults.error_rate = 0.0
    extract(resources)
    assert sync(resources, ALL_FLOWS).success  # the HighLevel note follows the send
    extract(resources)
    assert sync(resources, ALL_FLOWS).success  # flow 5 copies that note to SendApp, like every HighLevel note
    (message,) = sandbox.platforms["sendapp"].store.messages
    assert message["number"] == "14155550142"
    wren_notes = [n for n in hl_children(sandbox, "notes") if n["contact_id"] == wren]
    assert [n for n in wren_notes if "WhatsApp welcome message sent" in n["body"]]
    # Flow 1's SendOwl part: each buyer's orders carry the HighLevel contact id (a buyer created in HighLevel by
    # the first sync has its orders tagged by the next one, once the new contact is linked).
    order_tags = {str(o["id"]): o["tag"] for o in sandbox.platforms["sendowl"].store.orders.values()}
    for order_id, contact in contact_of.items():
        assert order_tags[order_id] == contact, "the order's tag carries the HighLevel contact id"

    # Re-runs and a backfill over past partitions add nothing and send nothing.
    extract(resources, backfill=True)
    reset_stats(sandbox)
    again = sync(resources, ALL_FLOWS, allow_mass_change=False)
    assert again.success and metadata(again)["activity_changeset"]["new"] == 0
    assert write_requests(sandbox) == {"highlevel": 0, "sendowl": 0, "sendapp": 0}
    assert len(sandbox.platforms["sendapp"].store.messages) == 1


@pytest.mark.usefixtures("synced")
def test_lost_answers_are_found_not_repeated(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    outbox = ActivityOutbox(get_warehouse(resources["duckdb"]))
    # A note whose create went out but whose answer was lost: the next run finds it by its marker.
    key, person = rows(
        resources,
        "SELECT idempotency_key, person_id FROM activity_outbox WHERE platform = 'highlevel' "
        "AND operation = 'create_note' AND status = 'acknowledged' LIMIT 1",
    )[0]
    parent = outbox.parent_id("highlevel", person)
    assert parent is not None
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS) as hl:
        notes_before = len(hl.get(f"/contacts/{parent}/notes").json()["notes"])
        with get_warehouse(resources["duckdb"]).connect() as con:
            con.execute("UPDATE activity_outbox SET status = 'sent', attempts = 1 WHERE idempotency_key = ?", [key])
        result = sync(resources, ALL_FLOWS, allow_mass_change=False)
        assert result.success
        assert metadata(result)["activity_writes"]["highlevel.found_after_lost_answer"] == 1
        assert len(hl.get(f"/contacts/{parent}/notes").json()["notes"]) == notes_before, "not created twice"
    # A welcome message in doubt (sent, no answer) is never sent again.
    with get_warehouse(resources["duckdb"]).connect() as con:
        con.execute(
            "INSERT INTO activity_outbox VALUES ('k-doubt', 'welcome_message', 'sendapp', 'send_message', ?, ?, "
            '\'{"number": "14155550100", "template": "welcome"}\', \'sent\', 1, NULL, NULL, NULL, \'r\', now(), now())',
            [person, person],
        )
    sent_before = len(sandbox.platforms["sendapp"].store.messages)
    assert sync(resources, ALL_FLOWS, allow_mass_change=False).success
    assert len(sandbox.platforms["sendapp"].store.messages) == sent_before
    assert rows(resources, "SELECT status FROM activity_outbox WHERE idempotency_key = 'k-doubt'") == [("unknown",)]


@pytest.mark.usefixtures("synced")
def test_tasks_get_one_sendapp_twin_and_completion_flows_both_ways(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    # A task edited in SendApp does not touch its contact, so only the rotating child sweep sees it: sweep them all
    # (in the extractions: the first sync, `synced`, reads nothing from the platforms).
    from etl_project.defs.resources import SendAppResource
    from etl_tests.conftest import SENDAPP_KEY

    sweep_all = SendAppResource(
        base_url=sandbox.api_url("sendapp"), api_key=SENDAPP_KEY, min_interval_seconds=0, child_sweep_per_run=1000
    )
    resources = {**resources, "sendapp": sweep_all}
    twins = rows(
        resources,
        "SELECT source_ref, result_id, parent_id FROM activity_outbox WHERE flow = 'highlevel_tasks_to_sendapp' "
        "AND operation = 'create_task' AND status = 'acknowledged' ORDER BY 1",
    )
    assert twins, "HighLevel tasks of people on SendApp got SendApp twins"
    sa_tasks = {str(t["id"]): t for by in sandbox.platforms["sendapp"].store.tasks.values() for t in by.values()}
    hl_tasks = {t["id"]: t for t in hl_children(sandbox, "tasks")}
    for hl_id, sa_id, _contact in twins:
        assert sa_tasks[sa_id]["title"] == hl_tasks[hl_id]["title"]
        assert sa_tasks[sa_id]["status"] == ("done" if hl_tasks[hl_id]["completed"] else "open")
    open_twins = [(h, s, c) for h, s, c in twins if sa_tasks[s]["status"] == "open"]
    assert len(open_twins) >= 2
    (hl_a, _sa_a, _), (hl_b, sa_b, contact_b) = open_twins[:2]
    # Complete one in HighLevel and the other in SendApp.
    hl_contact_a = hl_tasks[hl_a]["contact_id"]
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS) as hl:
        done = hl.put(f"/contacts/{hl_contact_a}/tasks/{hl_a}/completed", json={"completed": True})
        assert done.status_code == 200
    with httpx.Client(base_url=sandbox.api_url("sendapp"), headers={"X-API-Key": SENDAPP_KEY}) as sa:
        assert sa.put(f"/contacts/{contact_b}/tasks/{sa_b}", json={"status": "done"}).status_code == 200
    extract(resources)
    assert sync(resources, ALL_FLOWS).success
    sa_tasks = {str(t["id"]): t for by in sandbox.platforms["sendapp"].store.tasks.values() for t in by.values()}
    hl_tasks = {t["id"]: t for t in hl_children(sandbox, "tasks")}
    twin_of = {h: s for h, s, _ in twins}
    assert sa_tasks[twin_of[hl_a]]["status"] == "done", "completed in HighLevel → done in SendApp"
    assert hl_tasks[hl_b]["completed"] is True, "done in SendApp → completed in HighLevel"
    # Reopen each on the side it was not completed on, and rename b in SendApp: the other side follows.
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS) as hl:
        reopened = hl.put(f"/contacts/{hl_contact_a}/tasks/{hl_a}/completed", json={"completed": False})
        assert reopened.status_code == 200
    with httpx.Client(base_url=sandbox.api_url("sendapp"), headers={"X-API-Key": SENDAPP_KEY}) as sa:
        body = {"status": "open", "title": "Renamed in SendApp"}
        assert sa.put(f"/contacts/{contact_b}/tasks/{sa_b}", json=body).status_code == 200
    extract(resources)
    assert sync(resources, ALL_FLOWS).success
    sa_tasks = {str(t["id"]): t for by in sandbox.platforms["sendapp"].store.tasks.values() for t in by.values()}
    hl_tasks = {t["id"]: t for t in hl_children(sandbox, "tasks")}
    assert sa_tasks[twin_of[hl_a]]["status"] == "open", "reopened in HighLevel → open in SendApp"
    assert hl_tasks[hl_b]["completed"] is False, "reopened in SendApp → open in HighLevel"
    assert hl_tasks[hl_b]["title"] == "Renamed in SendApp", "a SendApp edit reaches HighLevel (last writer wins)"
    reset_stats(sandbox)  # synced again before any extraction sees those writes: the writes stand, nothing undone
    again = sync(resources, ALL_FLOWS, allow_mass_change=False)
    assert again.success and metadata(again)["activity_changeset"]["new"] == 0
    assert write_requests(sandbox) == {"highlevel": 0, "sendowl": 0, "sendapp": 0}
    extract(resources)
    assert sync(resources, ALL_FLOWS).success  # tags flow 3 added in HighLevel reach SendApp one run later
    extract(resources, backfill=True)  # a backfill over past partitions must not duplicate any task
    reset_stats(sandbox)
    assert sync(resources, ALL_FLOWS, allow_mass_change=False).success
    assert write_requests(sandbox) == {"highlevel": 0, "sendowl": 0, "sendapp": 0}, "no ping-pong"


@pytest.mark.usefixtures("synced")
def test_an_appointment_change_is_logged_once_more_in_sendapp(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    # Rescheduling an appointment does not touch its contact: the rotating child sweep finds it (here: all of them,
    # in every extraction after the first sync, `synced`, which reads nothing from the platforms).
    from etl_project.defs.resources import HighLevelResource
    from etl_tests.conftest import TOKEN

    sweep_all = HighLevelResource(
        base_url=sandbox.base_url("highlevel"), token=TOKEN, location_id=LOCATION, child_sweep_per_run=1000
    )
    resources = {**resources, "highlevel": sweep_all}
    extract(resources)
    assert sync(resources, ALL_FLOWS).success  # tags flow 3 added in HighLevel reach SendApp one run later
    logged = rows(
        resources,
        "SELECT o.source_ref, o.parent_id, a.contact_id FROM activity_outbox o JOIN ghl_appointments a "
        "ON a.id = o.source_ref WHERE o.flow = 'highlevel_activity_to_sendapp' AND o.status = 'acknowledged' "
        "AND a.appointment_status <> 'cancelled' ORDER BY 1 LIMIT 1",
    )
    assert logged, "the seed has appointments of people on both platforms"
    ((appointment_id, sendapp_contact, hl_contact),) = logged
    sa_store = sandbox.platforms["sendapp"].store
    notes_before = len(sa_store.notes[int(sendapp_contact)])
    event = sandbox.platforms["highlevel"].store.appointments[hl_contact][appointment_id]
    event.update(appointmentStatus="cancelled", startTime="2026-12-24T15:00:00.000Z", dateUpdated=event["dateAdded"])

    extract(resources)
    reset_stats(sandbox)
    changed = sync(resources, ALL_FLOWS, allow_mass_change=False)
    assert changed.success
    assert write_requests(sandbox) == {"highlevel": 0, "sendowl": 0, "sendapp": 1}, "one new log entry, nothing else"
    (entry,) = list(sa_store.notes[int(sendapp_contact)].values())[notes_before:]
    assert entry["body"].startswith("Appointment 'Discovery call' at 2026-12-24T15:00:00+00:00: cancelled.")

    extract(resources, backfill=True)  # a re-run over past partitions logs nothing twice
    reset_stats(sandbox)
    assert sync(resources, ALL_FLOWS, allow_mass_change=False).success
    assert write_requests(sandbox) == {"highlevel": 0, "sendowl": 0, "sendapp": 0}
