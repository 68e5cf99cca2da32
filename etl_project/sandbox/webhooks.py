"""The stand-ins' webhook sender: signed deliveries, as HighLevel and SendOwl push them, from a background thread.

A change only enqueues its event (`emit`); a daemon thread builds the body, signs it over the exact bytes it sends,
and POSTs it to the platform's configured URL, so no request that made a change ever waits on a delivery. A non-2xx
answer or a transport error is retried with exponential backoff, a bounded number of times (HighLevel retries every
non-2xx; SendOwl about ten times). Retries wait in a timed heap, so one failing delivery never holds up the others.

Fault knobs (`Faults.webhook_*`, set through `POST /_sandbox/faults` like the others): duplicate deliveries (the
same bytes twice, as a platform's retry of an answer it lost), reordering (events held for a short window and sent
newest first), delayed delivery, and dropped deliveries (never sent: only a scheduled run can then see the change).
What happened is counted in `Stats.deliveries` (`GET /_sandbox/stats` → `webhooks`).
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, generate_private_key
from fastapi import FastAPI, Request

from etl_project.platforms.http import tls_context
from etl_project.sandbox.limits import Faults, Stats
from etl_project.webhooks import signing

# What a delivery's body holds besides the envelope, per HighLevel event family (contracts/webhooks.md): contact
# events carry the contact's fields but no `dateUpdated`; notes only id, body, contactId, dateAdded.
NOTE_FIELDS = ("id", "body", "contactId", "dateAdded")
SANDBOX_APP_ID = "sandbox-app-0001"


@dataclass
class WebhookSettings:
    """Where and how one platform delivers. An empty `url` sends nothing (events are counted as `unsent`)."""

    url: str = ""
    max_attempts: int = 6  # first try included: bounded, like the platforms' own retries
    backoff_seconds: float = 0.2  # doubled per retry
    max_backoff_seconds: float = 5.0
    timeout_seconds: float = 10.0
    reorder_window_ms: int = 300  # with reordering on: how long events are held before going out newest first


@dataclass(order=True)
class _Due:
    at: float
    seq: int
    delivery: _Delivery = field(compare=False)


@dataclass
class _Delivery:
    body: bytes
    headers: dict[str, str]
    attempt: int = 0


Signer = Callable[[bytes], dict[str, str]]


@functools.cache
def _rsa_key() -> RSAPrivateKey:
    """One legacy RSA key per process: generating it takes a moment, and nothing needs it to differ per sandbox."""
    return generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class HighLevelKeys:
    """The HighLevel stand-in's own key pair (Ed25519, derived from the seed so the CLI prints a stable key) and the
    process's RSA key for the legacy `x-wh-signature`."""

    ed25519: Ed25519PrivateKey

    @classmethod
    def for_seed(cls, seed: int) -> HighLevelKeys:
        return cls(Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"sandbox-webhooks-{seed}".encode()).digest()))

    @property
    def rsa(self) -> RSAPrivateKey:
        return _rsa_key()

    def public_key(self) -> str:
        """For `HIGHLEVEL_WEBHOOK_PUBLIC_KEYS` (base64 SPKI)."""
        return signing.public_key_b64(self.ed25519.public_key())

    def rsa_public_key(self) -> str:
        """For `HIGHLEVEL_WEBHOOK_RSA_PUBLIC_KEYS`."""
        return signing.public_key_b64(self.rsa.public_key())

    def sign(self, body: bytes) -> dict[str, str]:
        return {
            signing.HIGHLEVEL_HEADER: signing.sign_ed25519(self.ed25519, body),
            signing.HIGHLEVEL_LEGACY_HEADER: signing.sign_rsa(self.rsa, body),
        }


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class WebhookSender:
    """One platform's outgoing webhooks. `emit` enqueues (any thread); the sender thread delivers."""

    def __init__(self, platform: str, settings: WebhookSettings, faults: Faults, stats: Stats) -> None:
        self.platform = platform
        self.settings = settings
        self.faults = faults
        self.stats = stats
        self._heap: list[_Due] = []
        self._held: list[_Delivery] = []  # reordering: waiting for the window to close
        self._held_since = 0.0
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._inflight = 0
        self._thread: threading.Thread | None = None

    # -- producer side ---------------------------------------------------------------------------------------
    def wanted(self) -> bool:
        """Is a delivery URL configured? Without one an event is only counted (`unsent`), never built or signed."""
        if self.settings.url:
            return True
        with self._cond:
            self.stats.deliveries["events"] += 1
            self.stats.deliveries["unsent"] += 1
        return False

    def enqueue(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Queue one signed delivery; faults (drop, delay, duplicate, reorder) apply here and in the thread."""
        f = self.faults
        with self._cond:
            self.stats.deliveries["events"] += 1
            if not self.settings.url:
                self.stats.deliveries["unsent"] += 1  # no URL configured: nothing to deliver to
                return
            if f.hit(f.webhook_drop_rate, "", ""):
                self.stats.deliveries["dropped"] += 1
                return
            copies = 2 if f.hit(f.webhook_duplicate_rate, "", "") else 1
            self.stats.deliveries["duplicated"] += copies - 1
            now = time.monotonic()
            for _ in range(copies):
                delivery = _Delivery(body, {"Content-Type": "application/json", **headers})
                if f.webhook_reorder:
                    if not self._held:
                        self._held_since = now
                    self._held.append(delivery)
                else:
                    self._push(now + f.webhook_delay_ms / 1000, delivery)
            self._cond.notify_all()

    def _push(self, at: float, delivery: _Delivery) -> None:
        heapq.heappush(self._heap, _Due(at, next(self._seq), delivery))

    # -- the thread ------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"webhooks-{self.platform}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def idle(self) -> bool:
        """Nothing queued, held or being sent (tests wait for this)."""
        with self._cond:
            return not self._heap and not self._held and self._inflight == 0

    def wait_idle(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.02)
        return self.idle()

    def _next(self) -> _Delivery | None:
        """The next delivery that is due, waiting for it; None when stopping."""
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                window = self.settings.reorder_window_ms / 1000
                if self._held and (now >= self._held_since + window or not self.faults.webhook_reorder):
                    delay = self.faults.webhook_delay_ms / 1000
                    for delivery in reversed(self._held):  # newest first
                        self._push(now + delay, delivery)
                    self.stats.deliveries["reordered"] += max(0, len(self._held) - 1)
                    self._held.clear()
                if self._heap and self._heap[0].at <= now:
                    self._inflight += 1
                    return heapq.heappop(self._heap).delivery
                waits = [self._heap[0].at - now] if self._heap else []
                if self._held:
                    waits.append(self._held_since + window - now)
                self._cond.wait(timeout=max(0.005, min(waits)) if waits else None)
        return None

    def _run(self) -> None:
        with httpx.Client(timeout=self.settings.timeout_seconds, verify=tls_context()) as http:
            while (delivery := self._next()) is not None:
                try:
                    self._send(http, delivery)
                finally:
                    with self._cond:
                        self._inflight -= 1

    def _send(self, http: httpx.Client, delivery: _Delivery) -> None:
        s, counts = self.settings, self.stats.deliveries
        delivery.attempt += 1
        counts["sent"] += 1
        try:
            status = http.post(s.url, content=delivery.body, headers=delivery.headers).status_code
            counts[f"status_{status}"] += 1
        except httpx.HTTPError:
            status = 0
            counts["transport_errors"] += 1
        if 200 <= status < 300:
            counts["delivered"] += 1
            return
        if delivery.attempt >= s.max_attempts:
            counts["gave_up"] += 1
            return
        counts["retried"] += 1
        wait = min(s.max_backoff_seconds, s.backoff_seconds * 2 ** (delivery.attempt - 1))
        with self._cond:
            self._push(time.monotonic() + wait, delivery)
            self._cond.notify_all()


class HighLevelWebhooks(WebhookSender):
    """HighLevel's deliveries: flat JSON (type, locationId, appId, versionId, timestamp, webhookId, the record's
    fields), signed with the stand-in's Ed25519 key (`x-ghl-signature`) and RSA key (`x-wh-signature`)."""

    def __init__(
        self, keys: HighLevelKeys, location_id: str, settings: WebhookSettings, faults: Faults, stats: Stats
    ) -> None:
        super().__init__("highlevel", settings, faults, stats)
        self.keys = keys
        self.location_id = location_id
        self.app_id = SANDBOX_APP_ID

    def emit(self, event_type: str, record: Mapping[str, Any]) -> None:
        if not self.wanted():
            return
        fields = {k: v for k, v in record.items() if not k.startswith("_")}
        if event_type.startswith("Contact"):
            fields.pop("dateUpdated", None)  # contact events carry no dateUpdated
        elif event_type.startswith("Note"):
            fields = {k: fields.get(k) for k in NOTE_FIELDS}
        payload = {
            **fields,
            "type": event_type,
            "locationId": self.location_id,
            "appId": self.app_id,
            "versionId": "sandbox",
            "timestamp": iso_now(),
            "webhookId": str(uuid.uuid4()),
        }
        body = json.dumps(payload, separators=(",", ":")).encode()
        self.enqueue(body, self.keys.sign(body))


class SendOwlWebhooks(WebhookSender):
    """SendOwl's deliveries: `{"order": {...}}` as its API wraps an order, an `X-SENDOWL-EVENT` header, and
    `X-SENDOWL-HMAC-SHA256` (base64 HMAC-SHA256 of the body, keyed by the account's signing secret)."""

    def __init__(self, secret: str, settings: WebhookSettings, faults: Faults, stats: Stats) -> None:
        super().__init__("sendowl", settings, faults, stats)
        self.secret = secret

    def emit(self, event_type: str, order: Mapping[str, Any]) -> None:
        if not self.wanted():
            return
        body = json.dumps({"order": dict(order)}, separators=(",", ":"), default=str).encode()
        headers = {"X-SENDOWL-EVENT": event_type, signing.SENDOWL_HEADER: signing.sign_sendowl(self.secret, body)}
        self.enqueue(body, headers)


def order_event(order: Mapping[str, Any]) -> str:
    """The SendOwl event an order's new state fires (its settings list: order completed, refund issued, ...)."""
    return {
        "complete": "order.completed",
        "free": "order.free",
        "chargeback": "order.chargeback",
        "failed": "order.failed",
        "in_dispute": "order.in_dispute",
        "fraud_review": "order.fraud_review",
    }.get(str(order.get("state")), "order.updated")


Emit = Callable[[str, Mapping[str, Any]], None]


def emitter(app: FastAPI) -> Emit:
    """What a route calls after a change: the app's sender (`app.state.webhooks`) if it has one, else nothing."""

    def emit(event_type: str, record: Mapping[str, Any]) -> None:
        hooks = getattr(app.state, "webhooks", None)
        if hooks is not None:
            hooks.emit(event_type, record)

    return emit


def register_webhook_admin(app: FastAPI, sender: WebhookSender, public_keys: Callable[[], Mapping[str, str]]) -> None:
    """`GET/POST /_sandbox/webhooks`: the delivery URL and retry settings, the keys to verify with, the counts."""

    def view() -> dict[str, Any]:
        return {**vars(sender.settings), **public_keys(), "deliveries": dict(sender.stats.deliveries)}

    @app.get("/_sandbox/webhooks")
    async def get_webhooks() -> Any:
        return view()

    @app.post("/_sandbox/webhooks")
    async def set_webhooks(request: Request) -> Any:
        body = await request.body()
        data = json.loads(body) if body else {}
        for name in ("url", "max_attempts", "backoff_seconds", "max_backoff_seconds", "reorder_window_ms"):
            if isinstance(data, dict) and name in data:
                setattr(sender.settings, name, type(getattr(sender.settings, name))(data[name]))
        return view()
