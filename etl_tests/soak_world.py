"""The soak's outside world: people using the three platforms (through the sandbox's HTTP APIs), the faults injected
between the clients and the platforms, and the alert webhook a person reads."""

from __future__ import annotations

import json
import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from etl_project.sandbox.server import Sandbox
from etl_tests.conftest import HEADERS, LOCATION, SENDAPP_KEY

# What people do in an hour, and how often relative to each other.
ACTIVITY = {
    "hl_edit": 3.0,
    "sa_edit": 2.0,
    "hl_create": 1.0,
    "sa_create": 1.0,
    "sale": 2.0,
    "refund": 0.5,
    "hl_task_toggle": 1.5,
    "sa_task_edit": 1.0,
    "hl_note": 1.0,
    "hl_delete": 0.2,
    "sa_delete": 0.2,
}
FAULT_STATUSES = (500, 502, 503, 429)
APPROVAL = re.compile(r"etl/approve = ([\w-]+)")


class Users:
    """Random activity of the people using the platforms, over their real HTTP APIs (never faulted: the
    harness switches faults on only around the runs)."""

    def __init__(self, sandbox: Sandbox, rng: random.Random) -> None:
        self.sandbox, self.rng = sandbox, rng
        self.hl = httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS, timeout=30)
        self.sa = httpx.Client(base_url=sandbox.api_url("sendapp"), headers={"X-API-Key": SENDAPP_KEY}, timeout=30)
        self.shop = httpx.Client(base_url=sandbox.base_url("sendowl"), timeout=30)
        self.done: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()  # actions the platform refused (e.g. a number already taken)
        self.user_sa_tasks: set[int] = set()
        self.seq = 0

    def close(self) -> None:
        for client in (self.hl, self.sa, self.shop):
            client.close()

    def store(self, name: str) -> Any:
        return self.sandbox.platforms[name].store

    def hour(self, busy: bool) -> None:
        """One simulated hour of activity: a few actions by day, fewer by night."""
        count = self.rng.choice((1, 2, 2, 3, 4) if busy else (0, 0, 1))
        kinds, weights = zip(*ACTIVITY.items(), strict=True)
        for kind in self.rng.choices(kinds, weights, k=count):
            response = getattr(self, kind)()
            if response is None:
                continue
            if response.is_success:
                self.done[kind] += 1
            else:
                self.refused[f"{kind} {response.status_code}"] += 1

    def _pick(self, rows: list[Any]) -> Any:
        return self.rng.choice(rows) if rows else None

    def _name(self) -> str:
        self.seq += 1
        return f"{self.rng.choice(('Ana', 'Bo', 'Cy', 'Di', 'Ed', 'Flo'))}{self.seq}"

    def hl_edit(self) -> httpx.Response | None:
        contact = self._pick(sorted(self.store("highlevel").contacts))
        field = self.rng.choice(("firstName", "lastName"))
        return None if contact is None else self.hl.put(f"/contacts/{contact}", json={field: self._name()})

    def sa_edit(self) -> httpx.Response | None:
        contact = self._pick(sorted(self.store("sendapp").contacts))
        field = self.rng.choice(("first_name", "last_name"))
        return None if contact is None else self.sa.put(f"/contacts/{contact}", json={field: self._name()})

    def hl_create(self) -> httpx.Response:
        self.seq += 1
        body = {"locationId": LOCATION, "firstName": f"Hal{self.seq}", "lastName": "Soak"}
        body |= {"email": f"hl.soak{self.seq}@example.com", "phone": f"+1415556{self.seq % 10_000:04d}"}
        return self.hl.post("/contacts/", json=body)

    def sa_create(self) -> httpx.Response:
        self.seq += 1
        body = {"number": f"1415557{self.seq % 10_000:04d}", "first_name": f"Sam{self.seq}", "last_name": "Soak"}
        if self.rng.random() < 0.5:
            body["email"] = f"sa.soak{self.seq}@example.org"
        return self.sa.post("/contacts", json=body)

    def sale(self) -> httpx.Response:
        store = self.store("highlevel")
        emails = sorted(c["email"] for c in store.contacts.values() if c.get("email") and "@example" in c["email"])
        self.seq += 1
        email = self._pick(emails) if self.rng.random() < 0.7 else f"buyer{self.seq}@example.net"
        product = self._pick(sorted(self.store("sendowl").products))
        body = {"product_id": product, "buyer_email": email or f"buyer{self.seq}@example.net", "buyer_name": "Soak"}
        return self.shop.post("/_sandbox/sendowl/purchase", json=body)

    def refund(self) -> httpx.Response | None:
        orders = self.store("sendowl").orders
        order = self._pick(sorted(i for i, o in orders.items() if o["state"] == "complete" and not o["refunded"]))
        return None if order is None else self.shop.post(f"/_sandbox/sendowl/orders/{order}/refund")

    def hl_task_toggle(self) -> httpx.Response | None:
        tasks = self.store("highlevel").tasks
        picked = self._pick(sorted((c, t) for c, by in tasks.items() for t in by))
        if picked is None:
            return None
        contact, task = picked
        body = {"completed": not tasks[contact][task]["completed"]}  # completes or re-opens
        return self.hl.put(f"/contacts/{contact}/tasks/{task}/completed", json=body)

    def sa_task_edit(self) -> httpx.Response | None:
        tasks = self.store("sendapp").tasks
        picked = self._pick(sorted((c, t) for c, by in tasks.items() for t in by))
        if picked is None:
            return None
        contact, task = picked
        status = "open" if tasks[contact][task]["status"] == "done" else "done"
        body: dict[str, Any] = {"status": status}
        if self.rng.random() < 0.3:
            body["title"] = f"Edited in SendApp {self._name()}"
        return self.sa.put(f"/contacts/{contact}/tasks/{task}", json=body)

    def hl_note(self) -> httpx.Response | None:
        contact = self._pick(sorted(self.store("highlevel").contacts))
        body = {"body": f"Call notes by a person ({self._name()})"}
        return None if contact is None else self.hl.post(f"/contacts/{contact}/notes", json=body)

    def hl_delete(self) -> httpx.Response | None:
        contact = self._pick(sorted(self.store("highlevel").contacts))
        return None if contact is None else self.hl.delete(f"/contacts/{contact}")

    def sa_delete(self) -> httpx.Response | None:
        contact = self._pick(sorted(self.store("sendapp").contacts))
        return None if contact is None else self.sa.delete(f"/contacts/{contact}")


@dataclass(frozen=True)
class Fault:
    """Faults on one platform for one tick: a share of its requests answered with `status`, or one of the sandbox's
    other knobs (`kind`): 200s cut short or turned into HTML, connections reset before or after the platform
    applied the request, writes applied and then answered 5xx, a 429 storm with or without Retry-After."""

    platform: str
    status: int
    rate: float
    latency_ms: int = 0
    path: str = ""
    kind: str = "status"  # status | truncate | non_json | reset | reset_after_apply | apply_then_error | storm

    def label(self) -> str:
        where = f" on {self.path}" if self.path else ""
        what = {
            "status": f"x {self.status}",
            "storm": "x 429 storm" + (" (Retry-After 1 s)" if self.status == 1 else ""),
            "apply_then_error": f"applied, then x {self.status}",
        }.get(self.kind, f"x {self.kind}")
        return f"{self.platform}: {self.rate:.0%} {what}{where}, +{self.latency_ms} ms"

    def knobs(self) -> dict[str, Any]:
        body: dict[str, Any] = {"latency_ms": self.latency_ms, "error_path": self.path, "fault_path": self.path}
        if self.kind == "status":
            return body | {"error_rate": self.rate, "error_status": self.status}
        if self.kind == "storm":
            return body | {"rate_limit_storm": self.rate, "storm_retry_after": self.status}
        if self.kind == "apply_then_error":
            return body | {"apply_then_error_rate": self.rate, "error_status": self.status}
        if self.kind in ("reset", "reset_after_apply"):
            return body | {"reset_rate": self.rate, "reset_after_apply": self.kind == "reset_after_apply"}
        return body | {f"{self.kind}_rate": self.rate}  # truncate, non_json


# Knobs a fault turns back off (the sandbox keeps each one until it is set again).
FAULTS_OFF = {
    "error_rate": 0.0, "error_status": 503, "latency_ms": 0, "error_path": "", "fault_path": "",
    "apply_then_error_rate": 0.0, "truncate_rate": 0.0, "non_json_rate": 0.0, "reset_rate": 0.0,
    "reset_after_apply": False, "rate_limit_storm": 0.0, "storm_retry_after": 0,
}  # fmt: skip
FAULT_KINDS = ("status", "status", "status", "truncate", "non_json", "reset", "reset_after_apply",
               "apply_then_error", "storm")  # fmt: skip


def random_fault(rng: random.Random, sandbox: Sandbox) -> Fault:
    platform = rng.choice(sorted(sandbox.platforms))
    kind = rng.choice(FAULT_KINDS)
    latency = rng.choice((0, 0, 20))
    if kind == "status":
        return Fault(platform, rng.choice(FAULT_STATUSES), rng.choice((0.05, 0.1, 0.2, 0.3, 0.5)), latency)
    if kind == "storm":  # Retry-After absent (0) or 1 s
        return Fault(platform, rng.choice((0, 1)), rng.choice((0.2, 0.5)), latency, kind=kind)
    status = rng.choice((500, 502, 503)) if kind == "apply_then_error" else 200
    return Fault(platform, status, rng.choice((0.05, 0.1, 0.2)), latency, kind=kind)


def set_fault(sandbox: Sandbox, fault: Fault | None, platform: str | None = None) -> None:
    """Switch `fault` on (POST /_sandbox/faults), or every fault off on `platform` when fault is None."""
    name = fault.platform if fault is not None else platform
    assert name is not None
    body = FAULTS_OFF | (fault.knobs() if fault is not None else {})
    httpx.post(f"{sandbox.base_url(name)}/_sandbox/faults", json=body, timeout=10).raise_for_status()


@dataclass
class Webhook:
    """A Slack-compatible incoming webhook on loopback: what a person reads."""

    received: list[dict[str, Any]] = field(default_factory=list)
    read: int = 0

    def __post_init__(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/soak"

    def unread(self) -> list[str]:
        texts = [str(p.get("text", "")) for p in self.received[self.read :]]
        self.read = len(self.received)
        return texts

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
