"""End to end: sandbox → signed webhook → receiver process → sensor tick → targeted run → write on the other platform.

The sensor is evaluated in the test (`build_sensor_context`) and its RunRequest executed in process, as the daemon
would launch it. Flows 1 (a contact edit), 3 (a sale), 4 (a task completed in HighLevel) and 6 (a new contact's
welcome). Duplicate and reordered deliveries are on: each write still happens exactly once, the sync's own
writes echo back as webhooks and their run writes nothing, and a dropped delivery is caught by the next scheduled
extraction.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest

from etl_project.defs.sync_run import SYNC_ASSETS
from etl_project.defs.webhook_run import WEBHOOK_ASSETS, webhook_sync_job
from etl_project.defs.webhook_sensor import drain
from etl_project.sandbox.server import Sandbox
from etl_project.sandbox.webhooks import SANDBOX_APP_ID
from etl_project.sync.activities import marker
from etl_project.webhooks import Inbox
from etl_project.webhooks.process import ReceiverProcess
from etl_tests.conftest import HEADERS, LOCATION, SENDOWL_SECRET
from etl_tests.sync_helpers import ALL_FLOWS, extract, reset_stats, sendapp_contacts, sync, write_requests
from etl_tests.test_reconcile_e2e import rows

pytestmark = pytest.mark.e2e

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


@pytest.fixture
def receiver(sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[ReceiverProcess, Path]]:
    """The real receiver, verifying with the keys the sandbox prints; the sandbox delivers to it."""
    inbox = tmp_path / "inbox.sqlite3"
    env = {
        "HIGHLEVEL_WEBHOOK_PUBLIC_KEYS": sandbox.webhook_keys()["public_key"],
        "HIGHLEVEL_LOCATION_IDS": LOCATION,
        "HIGHLEVEL_APP_ID": SANDBOX_APP_ID,
        "SENDOWL_WEBHOOK_SECRET": SENDOWL_SECRET,
        "WEBHOOK_INBOX_PATH": str(inbox),
        "WEBHOOK_INBOX_SYNCHRONOUS": "normal",
    }
    with ReceiverProcess(env) as process:
        yield process, inbox


def _point(sandbox: Sandbox, process: ReceiverProcess, **faults: Any) -> None:
    for name in ("highlevel", "sendowl"):
        admin = sandbox.base_url(name)
        httpx.post(f"{admin}/_sandbox/webhooks", json={"url": process.url(name)}, timeout=10).raise_for_status()
        httpx.post(f"{admin}/_sandbox/faults", json=faults, timeout=10).raise_for_status()


def _delivered(sandbox: Sandbox) -> None:
    for name in ("highlevel", "sendowl"):
        assert sandbox.webhooks(name).wait_idle(60)


def _counts(path: Path) -> dict[str, int]:
    inbox = Inbox(path)
    try:
        return inbox.counts()
    finally:
        inbox.close()


class Daemon:
    """What the daemon does with the sensor: tick, launch what it requests; the test decides when."""

    def __init__(self, instance: dg.DagsterInstance, inbox: Path, resources: dict[str, Any]) -> None:
        self.instance, self.inbox, self.cursor = instance, inbox, None
        defs = dg.Definitions(
            assets=[*WEBHOOK_ASSETS, *SYNC_ASSETS],
            jobs=[webhook_sync_job],
            resources={**resources, "sync_config": ALL_FLOWS},
        )
        self.job = defs.resolve_job_def("webhook_sync_job")
        self.runs: list[dg.ExecuteInProcessResult] = []

    def tick(self) -> list[dg.ExecuteInProcessResult]:
        result = drain(dg.build_sensor_context(instance=self.instance, cursor=self.cursor), self.inbox)
        launched = []
        if isinstance(result, dg.SensorResult):
            self.cursor = result.cursor
            for request in result.run_requests or []:
                assert isinstance(request, dg.RunRequest)
                run = self.job.execute_in_process(
                    run_config=request.run_config, instance=self.instance, tags=request.tags, raise_on_error=False
                )
                launched.append(run)
        self.runs += launched
        return launched


def _linked_contact(sandbox: Sandbox, skip: set[str]) -> dict[str, Any]:
    """A HighLevel contact with a phone that is on SendApp and a valid email (after the first sync)."""
    numbers = {c["number"] for c in sendapp_contacts(sandbox)}
    for contact in sorted(sandbox.platforms["highlevel"].store.contacts.values(), key=lambda c: c["id"]):
        digits = re.sub(r"\D", "", contact.get("phone") or "")
        if contact["id"] not in skip and digits in numbers and EMAIL.match(contact.get("email") or ""):
            return contact
    raise AssertionError("no linked contact in the seed")


@pytest.mark.usefixtures("converged")
def test_an_edit_and_a_sale_reach_the_other_platform_through_webhooks_alone(
    sandbox: Sandbox, resources: dict[str, Any], receiver: tuple[ReceiverProcess, Path]
) -> None:
    process, inbox = receiver
    _point(sandbox, process, webhook_duplicate_rate=1.0, webhook_reorder=True)
    edited = _linked_contact(sandbox, set())
    buyer = _linked_contact(sandbox, {edited["id"]})
    started = time.monotonic()
    # Flow 1: a user edits the contact in HighLevel's UI. Flow 3: a sale in SendOwl by another known contact.
    hl_ui = f"{sandbox.base_url('highlevel')}/_sandbox/highlevel/contacts/{edited['id']}"
    httpx.put(hl_ui, json={"lastName": "Webhooked"}, timeout=10).raise_for_status()
    product = next(iter(sandbox.platforms["sendowl"].store.products))
    sale = {"product_id": product, "buyer_email": buyer["email"], "buyer_name": buyer.get("name")}
    shop = sandbox.base_url("sendowl")
    order_id = str(httpx.post(f"{shop}/_sandbox/sendowl/purchase", json=sale, timeout=10).json()["order"]["id"])
    _delivered(sandbox)
    assert _counts(inbox)["pending"] == 2  # every delivery came twice: the receiver kept each once
    hl_stats = sandbox.platforms["highlevel"].stats.deliveries
    assert hl_stats["duplicated"] == 1 and hl_stats["status_200"] == 2

    reset_stats(sandbox)
    with dg.instance_for_test() as instance:
        daemon = Daemon(instance, inbox, resources)
        (run,) = daemon.tick()
        assert run.success
        elapsed = time.monotonic() - started
        writes = write_requests(sandbox)
        number = re.sub(r"\D", "", edited["phone"])
        (on_sendapp,) = [c for c in sendapp_contacts(sandbox) if c["number"] == number]
        assert on_sendapp["last_name"] == "Webhooked"
        ((key,),) = rows(
            resources,
            "SELECT idempotency_key FROM activity_outbox WHERE source_ref = ? AND operation = 'create_task' "
            "AND status = 'acknowledged'",
            [order_id],
        )
        tasks = sandbox.platforms["highlevel"].store.tasks.get(buyer["id"], {}).values()
        assert len([t for t in tasks if marker(key) in (t.get("body") or "")]) == 1
        assert writes["sendapp"] >= 1 and writes["highlevel"] >= 1

        # The run's own HighLevel writes (the follow-up task, its note, the buyer's tags) echo back as webhooks:
        # the next tick settles the first run and launches one for the echoes. It writes nothing back to HighLevel
        # or SendOwl; what it sends SendApp is those writes' own consequences (the buyer's new tags, flow 5's copy
        # of the note), never a repeat.
        _delivered(sandbox)
        reset_stats(sandbox)
        echoes = daemon.tick()
        assert len(echoes) == 1 and echoes[0].success
        echo_writes = write_requests(sandbox)
        assert echo_writes["highlevel"] == echo_writes["sendowl"] == 0 and echo_writes["sendapp"] <= 2
        _delivered(sandbox)
        assert not daemon.tick()  # settles the echo run; nothing new
        counts = _counts(inbox)
        assert counts["pending"] == counts["claimed"] == 0 and counts["done"] >= 3
    # Exactly once: one follow-up task, and the next scheduled extraction and sync find nothing left to write.
    assert len([t for t in tasks if marker(key) in (t.get("body") or "")]) == 1
    extract(resources)
    reset_stats(sandbox)
    assert sync(resources, ALL_FLOWS, allow_mass_change=False).success
    assert write_requests(sandbox) == {"highlevel": 0, "sendowl": 0, "sendapp": 0}
    print(f"webhook → write took {elapsed:.1f} s (sensor tick driven by the test)")


@pytest.mark.usefixtures("converged")
def test_a_dropped_delivery_is_caught_by_the_next_scheduled_run(
    sandbox: Sandbox, resources: dict[str, Any], receiver: tuple[ReceiverProcess, Path]
) -> None:
    process, inbox = receiver
    _point(sandbox, process, webhook_drop_rate=1.0)
    edited = _linked_contact(sandbox, set())
    hl_ui = f"{sandbox.base_url('highlevel')}/_sandbox/highlevel/contacts/{edited['id']}"
    httpx.put(hl_ui, json={"lastName": "Dropped"}, timeout=10).raise_for_status()
    _delivered(sandbox)
    assert sandbox.platforms["highlevel"].stats.deliveries["dropped"] == 1
    with dg.instance_for_test() as instance:
        assert not Daemon(instance, inbox, resources).tick()  # no event: no run
    number = re.sub(r"\D", "", edited["phone"])
    (before,) = [c for c in sendapp_contacts(sandbox) if c["number"] == number]
    assert before["last_name"] != "Dropped"
    # The hourly extraction reads what changed since its cursor, and the sync follows it.
    extract(resources)
    assert sync(resources, ALL_FLOWS, allow_mass_change=False).success
    (after,) = [c for c in sendapp_contacts(sandbox) if c["number"] == number]
    assert after["last_name"] == "Dropped"


def _settle(sandbox: Sandbox, daemon: Daemon) -> list[dg.ExecuteInProcessResult]:
    """Tick until a tick launches nothing (the echoes of the runs' own HighLevel writes run in between)."""
    runs: list[dg.ExecuteInProcessResult] = []
    for _ in range(4):
        _delivered(sandbox)
        launched = daemon.tick()
        if not launched:
            return runs
        runs += launched
    raise AssertionError("the webhook runs kept launching runs")


@pytest.mark.usefixtures("converged")
def test_a_task_completed_in_highlevel_reaches_its_sendapp_twin_through_webhooks(
    sandbox: Sandbox, resources: dict[str, Any], receiver: tuple[ReceiverProcess, Path]
) -> None:
    process, inbox = receiver
    twins = rows(
        resources,
        "SELECT source_ref, result_id, parent_id FROM activity_outbox WHERE flow = 'highlevel_tasks_to_sendapp' "
        "AND operation = 'create_task' AND status = 'acknowledged' ORDER BY 1",
    )
    sa_store, hl_store = sandbox.platforms["sendapp"].store, sandbox.platforms["highlevel"].store
    sa_tasks = {str(t["id"]): t for by in sa_store.tasks.values() for t in by.values()}
    hl_tasks = {t["id"]: (cid, t) for cid, by in hl_store.tasks.items() for t in by.values()}
    hl_id, sa_id, sa_contact = next(
        (h, s, c) for h, s, c in twins if sa_tasks[s]["status"] == "open" and not hl_tasks[h][1].get("completed")
    )
    twins_before = sum(len(by) for by in sa_store.tasks.values())
    _point(sandbox, process, webhook_duplicate_rate=1.0, webhook_reorder=True)
    # Flow 4: the user completes the task in HighLevel (TaskComplete, sent twice, reordered).
    contact_id = hl_tasks[hl_id][0]
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS) as hl:
        done = hl.put(f"/contacts/{contact_id}/tasks/{hl_id}/completed", json={"completed": True})
        assert done.status_code == 200
    _delivered(sandbox)
    assert _counts(inbox)["pending"] == 1  # TaskComplete, delivered twice, kept once
    assert sandbox.platforms["highlevel"].stats.deliveries["duplicated"] == 1

    reset_stats(sandbox)
    with dg.instance_for_test() as instance:
        daemon = Daemon(instance, inbox, resources)
        (run,) = daemon.tick()
        assert run.success
        twin = sa_store.tasks[int(sa_contact)][int(sa_id)]
        assert twin["status"] == "done", "completed in HighLevel → its SendApp twin is done"
        assert write_requests(sandbox) == {"highlevel": 0, "sendowl": 0, "sendapp": 1}  # one write, the twin's
        assert all(r.success for r in _settle(sandbox, daemon))  # flow 4 writes only SendApp: nothing echoes
        counts = _counts(inbox)
        assert counts["pending"] == counts["claimed"] == 0 and counts["done"] == 1
    # Exactly once: no second twin, and the next scheduled extraction and sync find nothing left to write.
    assert sum(len(by) for by in sa_store.tasks.values()) == twins_before
    extract(resources)
    reset_stats(sandbox)
    assert sync(resources, ALL_FLOWS, allow_mass_change=False).success
    assert write_requests(sandbox) == {"highlevel": 0, "sendowl": 0, "sendapp": 0}
    assert sa_store.tasks[int(sa_contact)][int(sa_id)]["status"] == "done"


@pytest.mark.usefixtures("converged")
def test_a_new_contact_gets_one_welcome_message_through_webhooks(
    sandbox: Sandbox, resources: dict[str, Any], receiver: tuple[ReceiverProcess, Path]
) -> None:
    process, inbox = receiver
    _point(sandbox, process, webhook_duplicate_rate=1.0, webhook_reorder=True)
    messages = sandbox.platforms["sendapp"].store.messages
    assert messages == []  # nobody already known is "new"
    # Flow 6: a contact with a phone is created in HighLevel (ContactCreate, sent twice, reordered).
    number = "14155550142"
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS) as hl:
        body = {"locationId": LOCATION, "firstName": "Wren", "email": "wren@example.com", "phone": f"+{number}"}
        created = hl.post("/contacts/", json=body)
        assert created.status_code in (200, 201)
        wren = created.json()["contact"]["id"]
    _delivered(sandbox)
    assert _counts(inbox)["pending"] >= 1
    assert sandbox.platforms["highlevel"].stats.deliveries["duplicated"] >= 1

    with dg.instance_for_test() as instance:
        daemon = Daemon(instance, inbox, resources)
        (run,) = daemon.tick()
        assert run.success
        assert [m["number"] for m in messages] == [number], "one welcome message, to the new contact"
        assert number in {c["number"] for c in sendapp_contacts(sandbox)}, "flow 1 created the SendApp contact"
        # The welcome is noted in HighLevel; that note echoes back (NoteCreate) and its run copies it to SendApp
        # (flow 5, as for every HighLevel note), never sending the welcome again.
        echoes = _settle(sandbox, daemon)
        assert echoes and all(r.success for r in echoes)
        counts = _counts(inbox)
        assert counts["pending"] == counts["claimed"] == 0
    assert len(messages) == 1
    notes = sandbox.platforms["highlevel"].store.notes.get(wren, {}).values()
    assert len([n for n in notes if "WhatsApp welcome message sent" in (n.get("body") or "")]) == 1
    # Exactly once: the next scheduled extraction and sync find nothing left to write or send.
    extract(resources)
    reset_stats(sandbox)
    assert sync(resources, ALL_FLOWS, allow_mass_change=False).success
    assert write_requests(sandbox) == {"highlevel": 0, "sendowl": 0, "sendapp": 0}
    assert len(messages) == 1
