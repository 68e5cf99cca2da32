"""The sandbox's outgoing webhooks, over real HTTP: signed as the platforms sign, every event family, retries, faults.

A small capturing endpoint stands in for the receiver where a test needs to see raw deliveries or script answers;
one test points the sandbox at the real receiver process with the key the sandbox CLI prints.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from etl_project.sandbox.server import Sandbox, SandboxConfig
from etl_project.webhooks import Inbox, signing
from etl_project.webhooks.process import ReceiverProcess
from etl_tests.conftest import HEADERS, LOCATION, SENDOWL_SECRET
from etl_tests.processes import stop


@dataclass
class Capture:
    """Records every POST (headers, raw body, arrival time) and answers from `statuses` (then 200)."""

    statuses: list[int] = field(default_factory=list)
    answer_delay: float = 0.0
    received: list[tuple[dict[str, str], bytes, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _, body, _ in self.received]

    def types(self) -> list[str]:
        return [b.get("type", "") for b in self.bodies()]


@pytest.fixture
def capture() -> Iterator[Capture]:
    cap = Capture()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with cap.lock:
                cap.received.append(({k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()))
                status = cap.statuses.pop(0) if cap.statuses else 200
            time.sleep(cap.answer_delay)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    cap.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield cap
    server.shutdown()
    server.server_close()


@pytest.fixture
def hooked(capture: Capture) -> Iterator[Sandbox]:
    config = SandboxConfig(
        contacts=20, seed=7, rate_limits="off", highlevel_webhook_url=capture.url, sendowl_webhook_url=capture.url
    )
    with Sandbox(config) as sb:
        yield sb


def _wait(sandbox: Sandbox, *names: str) -> None:
    for name in names or ("highlevel", "sendowl"):
        assert sandbox.webhooks(name).wait_idle(30), f"{name}'s webhooks still queued"


def _faults(sandbox: Sandbox, name: str, **knobs: Any) -> None:
    httpx.post(f"{sandbox.base_url(name)}/_sandbox/faults", json=knobs, timeout=10).raise_for_status()


def _first_contact(api: httpx.Client) -> str:
    found = api.post("/contacts/search", json={"locationId": LOCATION, "pageLimit": 1}).json()
    return str(found["contacts"][0]["id"])


def _every_highlevel_write(sandbox: Sandbox) -> None:
    """One write of each kind that fires a HighLevel event: through the API and through the scripted UI."""
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS, timeout=10) as api:
        created = api.post(
            "/contacts/", json={"locationId": LOCATION, "firstName": "Wanda", "email": "wanda.hook@example.com"}
        ).json()["contact"]
        cid = created["id"]
        api.put(f"/contacts/{cid}", json={"lastName": "Hook", "dnd": True, "tags": ["vip"]}).raise_for_status()
        api.post(f"/contacts/{cid}/tags", json={"tags": ["lead"]}).raise_for_status()
        task = api.post(
            f"/contacts/{cid}/tasks", json={"title": "Call", "dueDate": "2030-01-01T00:00:00Z", "completed": False}
        ).json()
        tid = task["task"]["id"]
        api.put(f"/contacts/{cid}/tasks/{tid}/completed", json={"completed": True}).raise_for_status()
        api.delete(f"/contacts/{cid}/tasks/{tid}").raise_for_status()
        note = api.post(f"/contacts/{cid}/notes", json={"body": "hello"}).json()["note"]
        api.put(f"/contacts/{cid}/notes/{note['id']}", json={"body": "hello again"}).raise_for_status()
        api.delete(f"/contacts/{cid}/notes/{note['id']}").raise_for_status()
        scripted = f"{sandbox.base_url('highlevel')}/_sandbox/highlevel/contacts/{cid}"
        booked = httpx.post(f"{scripted}/appointments", json={"title": "Demo"}, timeout=10).json()["appointment"]
        httpx.put(f"{scripted}/appointments/{booked['id']}", json={"title": "Demo (moved)"}, timeout=10)
        httpx.delete(f"{scripted}/appointments/{booked['id']}", timeout=10).raise_for_status()
        api.delete(f"/contacts/{cid}").raise_for_status()


def test_every_highlevel_event_family_is_signed_with_the_sandbox_keys(hooked: Sandbox, capture: Capture) -> None:
    _every_highlevel_write(hooked)
    _wait(hooked, "highlevel")
    assert capture.types() == [
        "ContactCreate",
        "ContactUpdate",
        "ContactTagUpdate",
        "ContactDndUpdate",
        "ContactTagUpdate",
        "TaskCreate",
        "TaskComplete",
        "TaskDelete",
        "NoteCreate",
        "NoteUpdate",
        "NoteDelete",
        "AppointmentCreate",
        "AppointmentUpdate",
        "AppointmentDelete",
        "ContactDelete",
    ]
    keys = hooked.webhook_keys()
    ed25519 = signing.load_ed25519_keys(keys["public_key"])
    rsa = signing.load_rsa_keys(keys["rsa_public_key"])
    webhook_ids = set()
    for headers, raw, _ in capture.received:
        assert headers["content-type"] == "application/json"
        assert signing.verify_ed25519(ed25519, raw, headers[signing.HIGHLEVEL_HEADER])
        assert signing.verify_rsa(rsa, raw, headers[signing.HIGHLEVEL_LEGACY_HEADER])
        assert not signing.verify_ed25519(ed25519, raw + b" ", headers[signing.HIGHLEVEL_HEADER])
        body = json.loads(raw)
        assert body["locationId"] == LOCATION and body["appId"] and body["timestamp"].endswith("Z")
        webhook_ids.add(body["webhookId"])
        if body["type"].startswith("Contact"):
            assert "dateUpdated" not in body and body["id"]
        elif body["type"].startswith("Note"):
            assert set(body) - {"type", "locationId", "appId", "versionId", "timestamp", "webhookId"} == {
                "id",
                "body",
                "contactId",
                "dateAdded",
            }
        elif body["type"].startswith("Appointment"):
            assert body["dateUpdated"] and body["contactId"]
        else:
            assert body["contactId"] and body["id"]
    assert len(webhook_ids) == len(capture.received)  # each event its own webhookId
    stats = httpx.get(f"{hooked.base_url('highlevel')}/_sandbox/stats", timeout=10).json()["webhooks"]
    assert stats["sent"] == stats["delivered"] == stats["status_200"] == len(capture.received)


def test_sendowl_order_events_are_hmac_signed(hooked: Sandbox, capture: Capture) -> None:
    shop = hooked.base_url("sendowl")
    product = next(iter(hooked.platforms["sendowl"].store.products))
    sale = {"product_id": product, "buyer_email": "hooked.buyer@example.com", "buyer_name": "Hooked Buyer"}
    order = httpx.post(f"{shop}/_sandbox/sendowl/purchase", json=sale, timeout=10).json()["order"]
    httpx.post(f"{shop}/_sandbox/sendowl/orders/{order['id']}/refund", timeout=10).raise_for_status()
    _wait(hooked, "sendowl")
    events = [(h["x-sendowl-event"], json.loads(raw)["order"]) for h, raw, _ in capture.received]
    assert [(e, o["id"], o["state"]) for e, o in events] == [
        ("order.completed", order["id"], "complete"),
        ("order.refunded", order["id"], "complete"),
    ]
    for headers, raw, _ in capture.received:
        assert signing.verify_sendowl(SENDOWL_SECRET, raw, headers[signing.SENDOWL_HEADER])
        assert not signing.verify_sendowl("another-secret", raw, headers[signing.SENDOWL_HEADER])


def test_non_2xx_is_retried_with_backoff_and_bounded(hooked: Sandbox, capture: Capture) -> None:
    admin = f"{hooked.base_url('highlevel')}/_sandbox/webhooks"
    httpx.post(admin, json={"backoff_seconds": 0.05, "max_attempts": 3}, timeout=10).raise_for_status()
    capture.statuses = [503, 500, 200]  # the first event gets through on its third attempt
    with httpx.Client(base_url=hooked.base_url("highlevel"), headers=HEADERS, timeout=10) as api:
        cid = _first_contact(api)
        api.put(f"/contacts/{cid}", json={"companyName": "Retry Ltd"}).raise_for_status()
        _wait(hooked, "highlevel")
        capture.statuses = [502, 502, 502]  # the second never does: given up after max_attempts
        api.put(f"/contacts/{cid}", json={"companyName": "Retry Two Ltd"}).raise_for_status()
        _wait(hooked, "highlevel")
    arrivals = [at for _, _, at in capture.received]
    assert len(arrivals) == 6
    assert arrivals[1] - arrivals[0] >= 0.04 and arrivals[2] - arrivals[1] >= 0.09  # doubling backoff
    assert len({raw for _, raw, _ in capture.received[:3]}) == 1  # a retry re-sends the same signed bytes
    stats = httpx.get(admin, timeout=10).json()["deliveries"]
    assert stats["sent"] == 6 and stats["retried"] == 4 and stats["delivered"] == 1 and stats["gave_up"] == 1
    assert stats["status_503"] == 1 and stats["status_500"] == 1 and stats["status_502"] == 3


def test_delivery_never_happens_inside_the_request(hooked: Sandbox, capture: Capture) -> None:
    capture.answer_delay = 1.5  # a slow receiver
    with httpx.Client(base_url=hooked.base_url("highlevel"), headers=HEADERS, timeout=10) as api:
        cid = _first_contact(api)
        started = time.monotonic()
        api.put(f"/contacts/{cid}", json={"companyName": "Slow Hooks"}).raise_for_status()
        assert time.monotonic() - started < 1.0
    _wait(hooked, "highlevel")
    assert capture.types() == ["ContactUpdate"]


def test_fault_knobs_duplicate_drop_delay_reorder(hooked: Sandbox, capture: Capture) -> None:
    stats_url = f"{hooked.base_url('highlevel')}/_sandbox/stats"
    with httpx.Client(base_url=hooked.base_url("highlevel"), headers=HEADERS, timeout=10) as api:
        cid = _first_contact(api)

        def edit(company: str) -> None:
            api.put(f"/contacts/{cid}", json={"companyName": company}).raise_for_status()

        _faults(hooked, "highlevel", webhook_duplicate_rate=1.0)
        edit("Twice")
        _wait(hooked, "highlevel")
        assert len(capture.received) == 2 and capture.received[0][1] == capture.received[1][1]

        _faults(hooked, "highlevel", webhook_duplicate_rate=0.0, webhook_drop_rate=1.0)
        edit("Never")
        _wait(hooked, "highlevel")
        assert len(capture.received) == 2

        _faults(hooked, "highlevel", webhook_drop_rate=0.0, webhook_delay_ms=400)
        started = time.monotonic()
        edit("Late")
        _wait(hooked, "highlevel")
        assert capture.received[-1][2] - started >= 0.39

        _faults(hooked, "highlevel", webhook_delay_ms=0, webhook_reorder=True)
        for n in range(3):
            edit(f"Order {n}")
        _wait(hooked, "highlevel")
        assert [b["companyName"] for b in capture.bodies()[-3:]] == ["Order 2", "Order 1", "Order 0"]
    stats = httpx.get(stats_url, timeout=10).json()["webhooks"]
    assert stats["duplicated"] == 1 and stats["dropped"] == 1 and stats["reordered"] == 2
    assert stats["events"] == 6 and stats["delivered"] == 6


def _cli_keys(seed: int) -> dict[str, str]:
    """Start the sandbox CLI (every port free), read what it prints, stop it."""
    cmd = [sys.executable, "-m", "etl_project.sandbox", "--seed", str(seed), "--contacts", "5"]
    cmd += [f"--{name}-port=0" for name in ("highlevel", "sendowl", "sendapp")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    printed: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            for word in line.split():
                if "=" in word:
                    name, _, value = word.partition("=")
                    printed[name] = value
            if line.strip().startswith("seed="):
                break
    finally:
        stop(proc, grace_s=120)
        if proc.stdout is not None:
            proc.stdout.close()
    return printed


def test_the_cli_prints_the_key_the_real_receiver_verifies_with(tmp_path: Path) -> None:
    printed = _cli_keys(seed=7)
    inbox_path = tmp_path / "inbox.sqlite3"
    env = {
        "HIGHLEVEL_WEBHOOK_PUBLIC_KEYS": printed["HIGHLEVEL_WEBHOOK_PUBLIC_KEYS"],
        "HIGHLEVEL_LOCATION_IDS": printed["HIGHLEVEL_LOCATION_IDS"],
        "SENDOWL_WEBHOOK_SECRET": printed["SENDOWL_WEBHOOK_SECRET"],
        "WEBHOOK_INBOX_PATH": str(inbox_path),
        "WEBHOOK_INBOX_SYNCHRONOUS": "normal",
    }
    with ReceiverProcess(env) as receiver:
        config = SandboxConfig(
            contacts=20,
            seed=7,  # the CLI's seed: the same Ed25519 key
            rate_limits="off",
            highlevel_webhook_url=receiver.url("highlevel"),
            sendowl_webhook_url=receiver.url("sendowl"),
        )
        with Sandbox(config) as sandbox:
            _every_highlevel_write(sandbox)
            product = next(iter(sandbox.platforms["sendowl"].store.products))
            sale = {"product_id": product, "buyer_email": "cli.buyer@example.com"}
            httpx.post(f"{sandbox.base_url('sendowl')}/_sandbox/sendowl/purchase", json=sale, timeout=10)
            _wait(sandbox)
            hl = httpx.get(f"{sandbox.base_url('highlevel')}/_sandbox/stats", timeout=10).json()["webhooks"]
            so = httpx.get(f"{sandbox.base_url('sendowl')}/_sandbox/stats", timeout=10).json()["webhooks"]
    assert hl["status_200"] == hl["sent"] == 15 and so["status_200"] == so["sent"] == 1
    inbox = Inbox(inbox_path)
    try:
        assert inbox.counts()["pending"] == 16  # every delivery verified and accepted, none ignored
        events = inbox.claim(100).events
    finally:
        inbox.close()
    kinds = {(e.platform, e.record_kind) for e in events}
    assert kinds == {
        ("highlevel", "contact"),
        ("highlevel", "task"),
        ("highlevel", "note"),
        ("highlevel", "appointment"),
        ("sendowl", "order"),
    }
    assert all(e.contact_id for e in events if e.platform == "highlevel")
