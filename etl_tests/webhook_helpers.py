"""Shared by the webhook tests and benchmark: test keys, HighLevel and SendOwl bodies, signed posts, inbox reads."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, generate_private_key
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from etl_project.webhooks import signing

LOCATION = "loc-hooks-0001"
APP_ID = "app-hooks-0001"
SENDOWL_SECRET = "sendowl-test-signing-secret-7f3a"
PERSON = "Ottilie Quarrington"  # personal data inside bodies: must never reach the receiver's log
EMAIL = "ottilie.quarrington@example.com"


@dataclass
class Keys:
    ed25519: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    rotated: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)  # a second configured key
    stranger: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)  # never configured
    rsa: RSAPrivateKey = field(default_factory=lambda: generate_private_key(public_exponent=65537, key_size=2048))

    def env(self, inbox: Path, **extra: str) -> dict[str, str]:
        """The receiver's environment: the first key as SPKI base64, the rotated one as PEM (both forms)."""
        pem = self.rotated.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        keys = f"{signing.public_key_b64(self.ed25519.public_key())},{pem}"
        return {
            "HIGHLEVEL_WEBHOOK_PUBLIC_KEYS": keys,
            "HIGHLEVEL_WEBHOOK_RSA_PUBLIC_KEYS": signing.public_key_b64(self.rsa.public_key()),
            "HIGHLEVEL_APP_ID": APP_ID,
            "HIGHLEVEL_LOCATION_IDS": f"{LOCATION},loc-hooks-0002",
            "SENDOWL_WEBHOOK_SECRET": SENDOWL_SECRET,
            "WEBHOOK_MAX_BODY_BYTES": "4096",
            "WEBHOOK_INBOX_PATH": str(inbox),
            **extra,
        }


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def highlevel_body(event_type: str, age: timedelta = timedelta(0), **fields: Any) -> dict[str, Any]:
    """A delivery as HighLevel sends it: flat, with appId, timestamp and webhookId (appointments nest)."""
    body: dict[str, Any] = {
        "type": event_type,
        "locationId": LOCATION,
        "appId": APP_ID,
        "versionId": "v-1",
        "timestamp": iso(datetime.now(UTC) - age),
        "webhookId": f"wh-{uuid.uuid4().hex}",
    }
    record = {"id": f"rec-{uuid.uuid4().hex[:12]}", "contactId": "ct-0001"}
    if event_type.startswith("Contact"):
        record = {"id": "ct-0001", "name": PERSON, "email": EMAIL}
    if event_type.startswith("Appointment"):
        body["appointment"] = {**record, "title": f"Call with {PERSON}"}
    elif event_type not in {"INSTALL", "UNINSTALL", "LocationCreate", "LocationUpdate"}:
        body.update(record)
    body.update(fields)
    return body


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def post_highlevel(
    client: httpx.Client, url: str, raw: bytes, key: Ed25519PrivateKey | None, **headers: str
) -> httpx.Response:
    sent = {"content-type": "application/json", **headers}
    if key is not None:
        sent[signing.HIGHLEVEL_HEADER] = signing.sign_ed25519(key, raw)
    return client.post(url, content=raw, headers=sent)


def sendowl_body(order_id: int = 4711, state: str = "complete") -> dict[str, Any]:
    return {"order": {"id": order_id, "state": state, "buyer_email": EMAIL, "buyer_name": PERSON}}


def inbox_rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM inbox_events ORDER BY seq")]


def inbox_keys(path: Path) -> set[str]:
    return {row["dedupe_key"] for row in inbox_rows(path)}
