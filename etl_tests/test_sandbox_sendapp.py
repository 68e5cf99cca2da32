"""Contract tests of the SendApp stand-in over real HTTP: auth, paging, 409, tags, notes, tasks, send, limits."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from etl_project.sandbox.server import Sandbox
from etl_tests.conftest import SENDAPP_CHANNEL, SENDAPP_KEY


@pytest.fixture
def sa(sendapp_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sendapp_url, headers={"X-API-Key": SENDAPP_KEY}, timeout=10) as client:
        yield client


def test_api_key_is_required(sendapp_url: str) -> None:
    missing = httpx.get(f"{sendapp_url}/contacts")
    assert missing.status_code == 401 and missing.json() == {"status": "error", "message": "Invalid API key"}
    assert httpx.get(f"{sendapp_url}/contacts", params={"apikey": SENDAPP_KEY}).status_code == 200


def test_contacts_page_in_updated_order_and_filter_by_updated_since(sa: httpx.Client) -> None:
    seen, page = [], 1
    while True:
        body = sa.get("/contacts", params={"page": page, "per_page": 10}).json()
        seen += body["data"]
        assert body["meta"]["per_page"] == 10 and body["meta"]["total"] >= len(seen)
        if not body["meta"]["has_more"]:
            break
        page += 1
    assert len({c["id"] for c in seen}) == len(seen) == body["meta"]["total"]
    stamps = [c["updated_at"] for c in seen]
    assert stamps == sorted(stamps)
    middle = stamps[len(stamps) // 2]
    later = sa.get("/contacts", params={"per_page": 100, "updated_since": middle}).json()["data"]
    assert later and all(c["updated_at"] >= middle for c in later)
    assert sa.get("/contacts", params={"per_page": 101}).status_code == 422


def test_numbers_are_digits_and_duplicates_conflict(sa: httpx.Client) -> None:
    existing = sa.get("/contacts", params={"per_page": 1}).json()["data"][0]
    assert existing["number"].isdigit()
    dup = sa.post("/contacts", json={"number": existing["number"], "first_name": "Copy"})
    assert dup.status_code == 409 and dup.json()["status"] == "error"
    created = sa.post("/contacts", json={"number": "14155550111", "first_name": "Eve", "email": "eve@example.com"})
    assert created.status_code == 201
    cid = created.json()["data"]["id"]
    assert sa.post("/contacts", json={"number": "+1 415"}).status_code == 422
    updated = sa.put(f"/contacts/{cid}", json={"last_name": "Adams", "custom_fields": {"plan": "pro"}})
    assert updated.json()["data"]["last_name"] == "Adams"
    assert updated.json()["data"]["updated_at"] >= created.json()["data"]["updated_at"]
    assert sa.post(f"/contacts/{cid}/tags", json={"tags": ["vip", "vip", "new"]}).json()["tags"] == ["vip", "new"]
    assert sa.request("DELETE", f"/contacts/{cid}/tags", json={"tags": ["vip"]}).json()["tags"] == ["new"]
    assert sa.get("/contacts/999999").status_code == 404


def test_notes_and_tasks(sa: httpx.Client) -> None:
    cid = sa.post("/contacts", json={"number": "14155550112"}).json()["data"]["id"]
    note = sa.post(f"/contacts/{cid}/notes", json={"body": "Asked about shipping"})
    assert note.status_code == 201 and note.json()["data"]["contact_id"] == cid
    assert [n["body"] for n in sa.get(f"/contacts/{cid}/notes").json()["data"]] == ["Asked about shipping"]
    task = sa.post(f"/contacts/{cid}/tasks", json={"title": "Call", "due_at": "2026-12-01T10:00:00Z"})
    assert task.status_code == 201 and task.json()["data"]["status"] == "open"
    tid = task.json()["data"]["id"]
    done = sa.put(f"/contacts/{cid}/tasks/{tid}", json={"status": "done"})
    assert done.json()["data"]["status"] == "done"
    assert sa.put(f"/contacts/{cid}/tasks/{tid}", json={"status": "closed"}).status_code == 422


def test_send_enforces_the_24_hour_window(sandbox: Sandbox, sa: httpx.Client) -> None:
    number = "14155550113"
    freetext = {"token": SENDAPP_CHANNEL, "number": number, "type": "freetext", "message": "Hi!"}
    refused = sa.post("/whatsapp-meta/send", json=freetext)
    assert refused.status_code == 422 and "template" in refused.json()["message"]
    template = {
        "token": SENDAPP_CHANNEL,
        "number": number,
        "type": "template",
        "template": {"name": "welcome", "language": {"code": "en"}, "components": []},
    }
    sent = sa.post("/whatsapp-meta/send", json=template)
    assert sent.status_code == 200 and sent.json()["message_id"].startswith("wamid.")
    root = sandbox.base_url("sendapp")
    httpx.post(f"{root}/_sandbox/inbound", json={"number": number})
    assert sa.post("/whatsapp-meta/send", json=freetext).status_code == 200
    assert sa.post("/whatsapp-meta/send", json={**template, "token": "wrong"}).status_code == 400
    messages = httpx.get(f"{root}/_sandbox/messages").json()["messages"]
    assert [m["type"] for m in messages] == ["template", "freetext"]


def test_rate_limit_is_429_with_retry_after(sandbox: Sandbox, sa: httpx.Client) -> None:
    root = sandbox.base_url("sendapp")
    httpx.post(f"{root}/_sandbox/rate-limits", json={"enabled": True, "burst_max": 3, "interval_ms": 60_000})
    statuses = [sa.get("/get_tokens").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = sa.get("/get_tokens")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
