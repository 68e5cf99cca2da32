"""The receiver as a real process over loopback HTTP: every refusal gets its status, logs no secret, stores nothing;
every HighLevel event family and a SendOwl order are stored with the record they name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from etl_project.webhooks import signing
from etl_project.webhooks.events import HIGHLEVEL_KINDS
from etl_project.webhooks.process import ReceiverProcess
from etl_tests.webhook_helpers import (
    EMAIL,
    PERSON,
    SENDOWL_SECRET,
    Keys,
    encode,
    highlevel_body,
    inbox_keys,
    inbox_rows,
    post_highlevel,
    sendowl_body,
)


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hooks") / "inbox.sqlite3"


@pytest.fixture(scope="module")
def receiver(keys: Keys, inbox: Path) -> Iterator[ReceiverProcess]:
    with ReceiverProcess(keys.env(inbox)) as process:
        yield process


@pytest.fixture(scope="module")
def legacy_receiver(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReceiverProcess]:
    path = tmp_path_factory.mktemp("legacy") / "inbox.sqlite3"
    with ReceiverProcess(keys.env(path, HIGHLEVEL_WEBHOOK_LEGACY_RSA="on")) as process:
        yield process


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as c:
        yield c


def assert_refused_quietly(
    receiver: ReceiverProcess, inbox: Path, response: httpx.Response, status: int, raw: bytes, *secrets: str
) -> None:
    """The status, nothing stored from this body, and no signature, secret or body in the receiver's output."""
    assert response.status_code == status, response.text
    assert all(row["body"] != raw for row in inbox_rows(inbox))
    output = receiver.output()
    for secret in (*secrets, SENDOWL_SECRET, PERSON, EMAIL, raw.decode(errors="replace")):
        assert secret not in output


def test_forged_signature(receiver: ReceiverProcess, inbox: Path, client: httpx.Client) -> None:
    raw = encode(highlevel_body("ContactUpdate"))
    forged = signing.sign_ed25519(Keys().ed25519, b"something else")  # well-formed, verifies nothing here
    response = post_highlevel(client, receiver.url("highlevel"), raw, None, **{"x-ghl-signature": forged})
    assert_refused_quietly(receiver, inbox, response, 401, raw, forged)
    assert "bad x-ghl-signature" in receiver.output()


def test_signature_by_another_key(keys: Keys, receiver: ReceiverProcess, inbox: Path, client: httpx.Client) -> None:
    raw = encode(highlevel_body("ContactCreate"))
    response = post_highlevel(client, receiver.url("highlevel"), raw, keys.stranger)
    assert_refused_quietly(receiver, inbox, response, 401, raw, signing.sign_ed25519(keys.stranger, raw))


def test_body_changed_by_one_byte(keys: Keys, receiver: ReceiverProcess, inbox: Path, client: httpx.Client) -> None:
    raw = encode(highlevel_body("ContactUpdate"))
    signature = signing.sign_ed25519(keys.ed25519, raw)
    changed = raw.replace(b"ct-0001", b"ct-0002")
    response = post_highlevel(client, receiver.url("highlevel"), changed, None, **{"x-ghl-signature": signature})
    assert_refused_quietly(receiver, inbox, response, 401, changed, signature)


def test_missing_signature(receiver: ReceiverProcess, inbox: Path, client: httpx.Client) -> None:
    raw = encode(highlevel_body("ContactUpdate"))
    response = post_highlevel(client, receiver.url("highlevel"), raw, None)
    assert_refused_quietly(receiver, inbox, response, 401, raw)
    assert "missing signature" in receiver.output()
    sendowl = encode(sendowl_body(9001))
    response = client.post(receiver.url("sendowl"), content=sendowl, headers={"content-type": "application/json"})
    assert_refused_quietly(receiver, inbox, response, 401, sendowl)


def test_legacy_rsa_only_when_switched_on(
    keys: Keys, receiver: ReceiverProcess, legacy_receiver: ReceiverProcess, inbox: Path, client: httpx.Client
) -> None:
    raw = encode(highlevel_body("ContactUpdate"))
    rsa = signing.sign_rsa(keys.rsa, raw)
    response = post_highlevel(client, receiver.url("highlevel"), raw, None, **{"x-wh-signature": rsa})
    assert_refused_quietly(receiver, inbox, response, 401, raw, rsa)
    assert post_highlevel(client, legacy_receiver.url("highlevel"), raw, None, **{"x-wh-signature": rsa}).json() == {
        "status": "accepted"
    }
    # Both headers: Ed25519 wins, so a bad one is refused even beside a valid RSA signature.
    other = encode(highlevel_body("ContactUpdate"))
    both = {"x-wh-signature": signing.sign_rsa(keys.rsa, other)}
    response = post_highlevel(client, legacy_receiver.url("highlevel"), other, keys.stranger, **both)
    assert response.status_code == 401


def test_replayed_webhook_id_is_stored_once(
    keys: Keys, receiver: ReceiverProcess, inbox: Path, client: httpx.Client
) -> None:
    body = highlevel_body("ContactUpdate")
    raw = encode(body)
    first = post_highlevel(client, receiver.url("highlevel"), raw, keys.ed25519)
    again = post_highlevel(client, receiver.url("highlevel"), raw, keys.ed25519)
    assert (first.status_code, first.json()["status"]) == (200, "accepted")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert [row["dedupe_key"] for row in inbox_rows(inbox)].count(f"highlevel:{body['webhookId']}") == 1
    assert "duplicate delivery" in receiver.output()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (lambda: highlevel_body("ContactUpdate", age=timedelta(minutes=6)), "stale timestamp"),
        (lambda: highlevel_body("ContactUpdate", age=-timedelta(minutes=6)), "timestamp too far in the future"),
        (lambda: highlevel_body("ContactUpdate", locationId="loc-elsewhere"), "location not configured"),
        (lambda: highlevel_body("ContactUpdate", appId="another-app"), "appId is not this app's"),
        (lambda: highlevel_body("OpportunityCreate"), "event type not used"),
    ],
    ids=["stale", "future", "unknown-location", "other-app", "unused-type"],
)
def test_what_a_retry_cannot_fix_is_answered_200_and_not_stored(
    keys: Keys, receiver: ReceiverProcess, inbox: Path, client: httpx.Client, body: object, reason: str
) -> None:
    raw = encode(body())  # type: ignore[operator]
    response = post_highlevel(client, receiver.url("highlevel"), raw, keys.ed25519)
    assert response.json() == {"status": "ignored", "reason": reason}
    assert_refused_quietly(receiver, inbox, response, 200, raw, signing.sign_ed25519(keys.ed25519, raw))
    assert reason in receiver.output()


def test_oversized_body(keys: Keys, receiver: ReceiverProcess, inbox: Path, client: httpx.Client) -> None:
    raw = encode(highlevel_body("ContactUpdate", padding="x" * 5000))  # the test receiver's limit is 4096 bytes
    response = post_highlevel(client, receiver.url("highlevel"), raw, keys.ed25519)
    assert_refused_quietly(receiver, inbox, response, 413, raw, signing.sign_ed25519(keys.ed25519, raw))

    def chunks() -> Iterator[bytes]:  # no Content-Length: the receiver must stop reading past the limit
        for start in range(0, len(raw), 1024):
            yield raw[start : start + 1024]

    headers = {"content-type": "application/json", "x-ghl-signature": signing.sign_ed25519(keys.ed25519, raw)}
    response = client.post(receiver.url("highlevel"), content=chunks(), headers=headers)
    assert "content-length" not in response.request.headers
    assert_refused_quietly(receiver, inbox, response, 413, raw)


def test_wrong_content_type(keys: Keys, receiver: ReceiverProcess, inbox: Path, client: httpx.Client) -> None:
    raw = encode(highlevel_body("ContactUpdate"))
    response = post_highlevel(client, receiver.url("highlevel"), raw, keys.ed25519, **{"content-type": "text/plain"})
    assert_refused_quietly(receiver, inbox, response, 415, raw)
    sendowl = encode(sendowl_body(9002))
    headers = {"content-type": "application/x-www-form-urlencoded", "x-sendowl-hmac-sha256": "x"}
    assert_refused_quietly(
        receiver, inbox, client.post(receiver.url("sendowl"), content=sendowl, headers=headers), 415, sendowl
    )


@pytest.mark.parametrize("event_type", sorted(HIGHLEVEL_KINDS))
def test_each_highlevel_event_is_stored_with_the_record_it_names(
    keys: Keys, receiver: ReceiverProcess, inbox: Path, client: httpx.Client, event_type: str
) -> None:
    body = highlevel_body(event_type)
    if event_type == "TaskCreate":
        body.pop("contactId")  # real TaskCreate deliveries have come without it
    key = keys.rotated if event_type.startswith("Note") else keys.ed25519  # either configured key verifies
    response = post_highlevel(client, receiver.url("highlevel"), encode(body), key)
    assert response.json() == {"status": "accepted"}
    [row] = [row for row in inbox_rows(inbox) if row["dedupe_key"] == f"highlevel:{body['webhookId']}"]
    record = body.get("appointment", body)
    kind = HIGHLEVEL_KINDS[event_type]
    expected_id = body["locationId"] if kind == "location" else record["id"]
    assert (row["platform"], row["event_type"], row["location_id"]) == ("highlevel", event_type, body["locationId"])
    assert (row["record_kind"], row["record_id"], row["status"]) == (kind, expected_id, "pending")
    contact = {"contact": record.get("id"), "location": None}.get(kind, record.get("contactId"))
    assert row["contact_id"] == contact
    assert row["body"] == encode(body)  # the raw bytes, as signed


def test_sendowl_order_event(receiver: ReceiverProcess, inbox: Path, client: httpx.Client) -> None:
    def deliver(raw: bytes, signature: str) -> httpx.Response:
        headers = {
            "content-type": "application/json",
            "x-sendowl-hmac-sha256": signature,
            "x-sendowl-event": "order.completed",
        }
        return client.post(receiver.url("sendowl"), content=raw, headers=headers)

    raw = encode(sendowl_body(4711, "complete"))
    assert deliver(raw, signing.sign_sendowl(SENDOWL_SECRET, raw)).json() == {"status": "accepted"}
    assert deliver(raw, signing.sign_sendowl(SENDOWL_SECRET, raw)).json() == {"status": "duplicate"}
    refunded = encode(sendowl_body(4711, "refunded"))  # the same order in a new state is a new event
    assert deliver(refunded, signing.sign_sendowl(SENDOWL_SECRET, refunded)).json() == {"status": "accepted"}
    rows = [row for row in inbox_rows(inbox) if row["platform"] == "sendowl"]
    assert [(r["record_kind"], r["record_id"], r["dedupe_key"]) for r in rows] == [
        ("order", "4711", "sendowl:4711:order.completed:complete"),
        ("order", "4711", "sendowl:4711:order.completed:refunded"),
    ]
    forged = signing.sign_sendowl("not-the-secret", raw := encode(sendowl_body(4712)))
    assert_refused_quietly(receiver, inbox, deliver(raw, forged), 401, raw, forged)
    assert "sendowl:4712:order.completed:complete" not in inbox_keys(inbox)


def test_healthz_counts_outcomes(receiver: ReceiverProcess, client: httpx.Client) -> None:
    health = client.get(f"{receiver.base_url}/healthz").json()
    assert set(health["inbox"]) == {"pending", "claimed", "done"}
    assert all(isinstance(v, int) for v in health["outcomes"].values())
    assert json.dumps(health).count("ghl-signature") <= 1  # reasons only, no signature value
