"""Crash test: a real process writing the outbox is killed (SIGKILL) mid-way; the next run applies every change
exactly once and creates no duplicate contact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import dagster as dg

from etl_project.defs.load_assets import changeset_assets
from etl_project.defs.reconcile_assets import SyncConfigResource, reconcile_contacts
from etl_project.sandbox.server import Sandbox
from etl_tests.sync_helpers import metadata, sendapp_contacts, sync
from etl_tests.test_reconcile_e2e import rows
from etl_tests.test_writes_e2e import extract

ROOT = Path(__file__).resolve().parents[1]


def test_a_killed_write_run_resumes_without_duplicates(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    extract(resources, backfill=True)
    planned = dg.materialize(
        [reconcile_contacts, *changeset_assets], resources={**resources, "sync_config": SyncConfigResource()}
    )
    assert planned.success
    creates = rows(resources, "SELECT count(*) FROM outbox WHERE platform = 'sendapp' AND operation = 'create'")[0][0]
    total = rows(resources, "SELECT count(*) FROM outbox WHERE platform = 'sendapp'")[0][0]
    before = len(sendapp_contacts(sandbox))
    stats = sandbox.platforms["sendapp"].stats
    stats.reset()

    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "etl_tests.crash_worker",
            resources["duckdb"].database,
            sandbox.api_url("sendapp"),
            "0.1",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 120
    while stats.writes < total // 3 and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.02)
    assert worker.poll() is None, "the worker must still be writing when it is killed"
    worker.send_signal(signal.SIGKILL)
    worker.wait()
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
