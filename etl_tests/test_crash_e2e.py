"""Crash test: a real process writing the outbox is killed (SIGKILL) mid-way; the next run applies every change
exactly once and creates no duplicate contact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from etl_project.defs.load_assets import changeset_assets
from etl_project.defs.reconcile_assets import SyncConfigResource, reconcile_contacts
from etl_project.sandbox.server import Sandbox
from etl_tests.sync_helpers import extract, metadata, sendapp_contacts, sync
from etl_tests.test_reconcile_e2e import rows

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]


def kill_worker_when(args: list[str], ready: Callable[[], bool], doing: str, poll: float = 0.02) -> None:
    """Run `crash_worker` with `args` in its own process and SIGKILL it as soon as `ready()` holds."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "etl_tests.crash_worker", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 120
    while not ready() and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(poll)
    assert worker.poll() is None, f"the worker must still be {doing} when it is killed"
    worker.send_signal(signal.SIGKILL)
    worker.wait()


@pytest.mark.usefixtures("history")
def test_a_killed_write_run_resumes_without_duplicates(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    planned = dg.materialize(
        [reconcile_contacts, *changeset_assets], resources={**resources, "sync_config": SyncConfigResource()}
    )
    assert planned.success
    creates = rows(resources, "SELECT count(*) FROM outbox WHERE platform = 'sendapp' AND operation = 'create'")[0][0]
    total = rows(resources, "SELECT count(*) FROM outbox WHERE platform = 'sendapp'")[0][0]
    before = len(sendapp_contacts(sandbox))
    stats = sandbox.platforms["sendapp"].stats
    stats.reset()

    args = [resources["duckdb"].database, sandbox.api_url("sendapp"), "0.1"]
    kill_worker_when(args, lambda: stats.writes >= total // 3, "writing")
    done_before_kill = stats.writes
    assert 0 < done_before_kill < total

    in_doubt = rows(resources, "SELECT count(*) FROM outbox WHERE platform = 'sendapp' AND status = 'sent'")[0][0]
    assert in_doubt <= 1, "only the row being sent when the process died is in doubt"
    assert rows(resources, "SELECT count(*) FROM outbox WHERE status = 'planned' AND platform = 'sendapp'")[0][0] > 0

    resumed = sync(resources)
    assert resumed.success
    writes = metadata(resumed)["sendapp_writes"]
    assert writes["failed"] == 0
    contacts = sendapp_contacts(sandbox)
    numbers = [c["number"] for c in contacts]
    assert len(numbers) == len(set(numbers)), "no duplicate contact"
    acknowledged_creates = rows(
        resources,
        "SELECT count(*) FROM outbox WHERE platform = 'sendapp' AND operation = 'create' AND status = 'acknowledged'",
    )[0][0]
    dead = rows(resources, "SELECT count(*) FROM outbox WHERE platform = 'sendapp' AND status = 'dead'")[0][0]
    assert acknowledged_creates + dead == creates
    assert len(contacts) == before + acknowledged_creates, "every create applied exactly once"
    assert rows(
        resources, "SELECT count(*) FROM outbox WHERE platform = 'sendapp' AND status IN ('planned', 'sent')"
    ) == [(0,)]
    # Each row reached SendApp once, plus at most the one in doubt (replayed as an idempotent update or adopted).
    posts = stats.by_route["POST /api/contacts"]
    assert 0 < posts <= creates + 1


@pytest.mark.usefixtures("history")
def test_a_killed_activity_run_resumes_without_duplicate_notes_tasks_or_messages(
    sandbox: Sandbox, resources: dict[str, Any]
) -> None:
    from importlib import resources as pkg

    from etl_project.defs.activity_assets import activity_writes
    from etl_project.sync.activities import marker
    from etl_tests.sync_helpers import SYNC

    config = str(pkg.files("etl_project.sync").joinpath("all_flows_sync.toml"))
    planned = dg.materialize(
        [a for a in SYNC if a is not activity_writes],
        resources={**resources, "sync_config": SyncConfigResource(path=config)},
        tags={"etl/allow-mass-change": "true"},
    )
    assert planned.success
    pending = rows(resources, "SELECT count(*) FROM activity_outbox WHERE status = 'planned'")[0][0]
    assert pending > 20
    stats = sandbox.platforms["sendapp"].stats
    stats.reset()
    args = [resources["duckdb"].database, sandbox.api_url("sendapp"), "0.1", "activity_writes"]
    args += [sandbox.base_url("highlevel"), sandbox.base_url("sendowl"), config]
    kill_worker_when(args, lambda: stats.writes >= 8, "writing")
    assert rows(resources, "SELECT count(*) FROM activity_outbox WHERE status = 'planned'")[0][0] > 0

    resumed = sync(resources, SyncConfigResource(path=config))
    assert resumed.success
    keys = rows(
        resources,
        "SELECT idempotency_key, platform, operation FROM activity_outbox "
        "WHERE status = 'acknowledged' AND (operation = 'create_note' OR (platform = 'highlevel' "
        "AND operation = 'create_task'))",
    )
    sa_notes = [n["body"] for by in sandbox.platforms["sendapp"].store.notes.values() for n in by.values()]
    hl_store = sandbox.platforms["highlevel"].store
    hl_bodies = [
        c.get("body") or "" for kind in (hl_store.notes, hl_store.tasks) for by in kind.values() for c in by.values()
    ]
    for key, platform, _operation in keys:
        bodies = sa_notes if platform == "sendapp" else hl_bodies
        assert sum(marker(key) in b for b in bodies) == 1, "each note and task exactly once"
    assert rows(resources, "SELECT count(*) FROM activity_outbox WHERE status = 'sent'") == [(0,)], "none in doubt"


@pytest.mark.usefixtures("synced")  # the first all-flows sync: the welcome flow's baseline
def test_a_welcome_run_killed_while_a_message_is_answered_never_sends_it_twice(
    sandbox: Sandbox, resources: dict[str, Any]
) -> None:
    from importlib import resources as pkg

    import httpx

    from etl_project.defs.activity_assets import activity_writes
    from etl_tests.conftest import HEADERS, LOCATION
    from etl_tests.sync_helpers import SYNC

    config = str(pkg.files("etl_project.sync").joinpath("all_flows_sync.toml"))
    numbers = [f"1415555{n:04d}" for n in range(300, 308)]
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS) as hl:
        for i, number in enumerate(numbers):
            body = {"locationId": LOCATION, "firstName": f"New{i}", "phone": f"+{number}"}
            assert hl.post("/contacts/", json=body).status_code == 201
    extract(resources)
    planned = dg.materialize(
        [a for a in SYNC if a is not activity_writes],
        resources={**resources, "sync_config": SyncConfigResource(path=config)},
        tags={"etl/allow-mass-change": "true"},
    )
    assert planned.success
    welcome = "SELECT count(*) FROM activity_outbox WHERE operation = 'send_message' AND status = ?"
    assert rows(resources, welcome, ["planned"]) == [(len(numbers),)]

    # SendApp applies each send and answers 1.5 s later: the worker is killed while the third answer is on its way.
    messages = sandbox.platforms["sendapp"].store.messages
    faults = sandbox.platforms["sendapp"].faults
    faults.answer_delay_ms, faults.answer_delay_path = 1500, "/api/whatsapp-meta/send"
    args = [resources["duckdb"].database, sandbox.api_url("sendapp"), "0", "activity_writes"]
    args += [sandbox.base_url("highlevel"), sandbox.base_url("sendowl"), config]
    kill_worker_when(args, lambda: len(messages) >= 3, "waiting for an answer", poll=0.005)
    faults.answer_delay_ms = 0
    assert len(messages) == 3
    assert rows(resources, welcome, ["sent"]) == [(1,)], "the message in flight is in doubt"
    assert rows(resources, welcome, ["acknowledged"]) == [(2,)]

    assert sync(resources, SyncConfigResource(path=config), allow_mass_change=False).success
    sent_to = sorted(m["number"] for m in messages)
    assert sent_to == numbers, "every new person got exactly one welcome, the one in doubt included"
    assert rows(resources, welcome, ["unknown"]) == [(1,)], "in doubt: recorded, never re-sent"
    assert rows(resources, welcome, ["acknowledged"]) == [(len(numbers) - 1,)]
    notes = [
        n
        for by in sandbox.platforms["highlevel"].store.notes.values()
        for n in by.values()
        if "WhatsApp welcome message sent" in n["body"]
    ]
    assert len(notes) == len(numbers) - 1, "one HighLevel note per acknowledged welcome"
    assert rows(
        resources,
        "SELECT count(*) FROM sync_log WHERE operation = 'send_message' AND status = 'unknown' "
        "AND error LIKE '%answer was lost%'",
    ) == [(1,)]
