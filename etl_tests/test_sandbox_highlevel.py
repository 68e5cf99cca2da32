"""Contract tests of the HighLevel stand-in over real HTTP: envelopes, status codes, errors, paging, limits."""

from __future__ import annotations

from datetime import datetime

import httpx

from etl_project.sandbox.server import Sandbox, SandboxConfig
from etl_tests.conftest import HEADERS, LOCATION, TOKEN


def _search(api: httpx.Client, **body: object) -> httpx.Response:
    return api.post("/contacts/search", json={"locationId": LOCATION, **body})


def test_auth_version_and_location_errors(hl_url: str) -> None:
    with httpx.Client(base_url=hl_url, timeout=10) as raw:
        no_token = raw.post("/contacts/search", json={"locationId": LOCATION}, headers={"Version": "2021-07-28"})
        assert no_token.status_code == 401
        body = no_token.json()
        assert body["statusCode"] == 401 and body["error"] == "Unauthorized" and body["traceId"]
        assert body["message"] == "Invalid token: access token is invalid"
        no_version = raw.get("/contacts/x", headers={"Authorization": f"Bearer {TOKEN}"})
        assert no_version.status_code == 400
        v3 = raw.post(
            "/contacts/search",
            json={"locationId": LOCATION},
            headers={"Authorization": f"Bearer {TOKEN}", "Version": "v3"},
        )
        assert v3.status_code == 200
        other = raw.post("/contacts/search", json={"locationId": "another"}, headers=HEADERS)
        assert other.status_code == 403


def test_search_paging_with_search_after_covers_everything_once(api: httpx.Client) -> None:
    seen: list[str] = []
    body: dict[str, object] = {"pageLimit": 7, "sort": [{"field": "dateUpdated", "direction": "asc"}]}
    while True:
        page = _search(api, **body).json()
        seen += [c["id"] for c in page["contacts"]]
        assert page["total"] == 60
        if len(page["contacts"]) < 7:
            break
        body["searchAfter"] = page["contacts"][-1]["searchAfter"]
    assert len(seen) == len(set(seen)) == 60


def test_search_range_accepts_iso_and_epoch_ms(api: httpx.Client) -> None:
    everything = _search(api, pageLimit=500).json()["contacts"]
    middle = sorted(c["dateUpdated"] for c in everything)[30]
    iso = _search(api, pageLimit=500, filters=[{"field": "dateUpdated", "operator": "range", "value": {"lt": middle}}])
    epoch = int(datetime.fromisoformat(middle.replace("Z", "+00:00")).timestamp() * 1000)
    ms = _search(api, pageLimit=500, filters=[{"field": "dateUpdated", "operator": "range", "value": {"lt": epoch}}])
    assert iso.json()["total"] == ms.json()["total"] == 30


def test_search_validation_errors_are_422_lists(api: httpx.Client) -> None:
    too_big = _search(api, pageLimit=501)
    assert too_big.status_code == 422
    assert isinstance(too_big.json()["message"], list)
    both = _search(api, pageLimit=5, page=2, searchAfter=[1, "x"])
    assert both.status_code == 422
    eq_on_date = _search(api, filters=[{"field": "dateAdded", "operator": "eq", "value": "2026-01-01"}])
    assert eq_on_date.status_code == 422


def test_search_eq_email_is_case_insensitive_and_tags_match(api: httpx.Client) -> None:
    created = api.post(
        "/contacts/", json={"locationId": LOCATION, "email": "Mixed.Case@Example.com", "tags": ["vip-test"]}
    )
    assert created.status_code == 201
    found = _search(api, filters=[{"field": "email", "operator": "eq", "value": "mixed.case@example.com"}]).json()
    assert [c["id"] for c in found["contacts"]] == [created.json()["contact"]["id"]]
    tagged = _search(api, filters=[{"field": "tags", "operator": "eq", "value": "vip-test"}]).json()
    assert tagged["total"] == 1


def test_contact_lifecycle_envelopes(api: httpx.Client) -> None:
    created = api.post(
        "/contacts/",
        json={"locationId": LOCATION, "firstName": "Ada", "email": "ada@example.com", "phone": "+1 212 555 0100"},
    )
    assert created.status_code == 201
    contact = created.json()["contact"]
    assert contact["dateAdded"].endswith("Z") and contact["dateUpdated"] == contact["dateAdded"]
    cid = contact["id"]
    dup = api.post("/contacts/", json={"locationId": LOCATION, "email": "ADA@example.com"})
    assert dup.status_code == 400 and dup.json()["meta"]["contactId"] == cid
    updated = api.put(f"/contacts/{cid}", json={"lastName": "Lovelace", "tags": ["a", "b"]})
    assert updated.status_code == 200
    assert updated.json()["succeded"] is True
    assert updated.json()["contact"]["name"] == "Ada Lovelace"
    assert updated.json()["contact"]["dateUpdated"] >= contact["dateUpdated"]
    tags = api.post(f"/contacts/{cid}/tags", json={"tags": ["c"]})
    assert tags.status_code == 201 and tags.json()["tags"] == ["a", "b", "c"]
    assert api.request("DELETE", f"/contacts/{cid}/tags", json={"tags": ["a"]}).json()["tags"] == ["b", "c"]
    upsert = api.post("/contacts/upsert", json={"locationId": LOCATION, "email": "ada@example.com", "city": "London"})
    assert upsert.json()["new"] is False and upsert.json()["contact"]["id"] == cid and upsert.json()["traceId"]
    fresh = api.post("/contacts/upsert", json={"locationId": LOCATION, "email": "new@example.com"})
    assert fresh.json()["new"] is True
    duplicate = api.get("/contacts/search/duplicate", params={"locationId": LOCATION, "number": "2125550100"})
    assert duplicate.json()["contact"]["id"] == cid
    nobody = api.get("/contacts/search/duplicate", params={"locationId": LOCATION, "email": "no@x.io"}).json()
    assert nobody["contact"] is None
    assert api.delete(f"/contacts/{cid}").json()["succeded"] is True
    gone = api.get(f"/contacts/{cid}")
    assert gone.status_code == 400 and "not found" in gone.json()["message"].lower()


def test_invalid_contact_body_is_422_with_messages(api: httpx.Client) -> None:
    bad = api.post("/contacts/", json={"locationId": LOCATION, "email": "nope", "tags": "x", "bogus": 1})
    assert bad.status_code == 422
    messages = bad.json()["message"]
    assert "email must be an email" in messages
    assert any("bogus" in m for m in messages)


def test_tasks_notes_and_appointments(api: httpx.Client) -> None:
    cid = api.post("/contacts/", json={"locationId": LOCATION, "email": "kid@example.com"}).json()["contact"]["id"]
    missing = api.post(f"/contacts/{cid}/tasks", json={"title": "x"})
    assert missing.status_code == 422
    task = api.post(
        f"/contacts/{cid}/tasks", json={"title": "Call", "dueDate": "2026-12-01T10:00:00Z", "completed": False}
    )
    assert task.status_code == 201
    tid = task.json()["task"]["id"]
    assert api.put(f"/contacts/{cid}/tasks/{tid}/completed", json={"completed": True}).json()["task"]["completed"]
    assert api.put(f"/contacts/{cid}/tasks/{tid}", json={"title": "Call again"}).json()["task"]["title"] == "Call again"
    assert [t["id"] for t in api.get(f"/contacts/{cid}/tasks").json()["tasks"]] == [tid]
    found = api.post(f"/locations/{LOCATION}/tasks/search", json={"contactId": [cid], "completed": True})
    assert [t["id"] for t in found.json()["tasks"]] == [tid]
    assert api.delete(f"/contacts/{cid}/tasks/{tid}").json()["succeded"] is True
    note = api.post(f"/contacts/{cid}/notes", json={"body": "Bought the course"})
    assert note.status_code == 201 and note.json()["note"]["dateAdded"]
    nid = note.json()["note"]["id"]
    assert api.put(f"/contacts/{cid}/notes/{nid}", json={"body": "edited"}).json()["note"]["body"] == "edited"
    assert api.get(f"/contacts/{cid}/notes").json()["notes"][0]["id"] == nid
    assert api.get(f"/contacts/{cid}/appointments").json()["events"] == []


def test_seeded_data_is_deterministic_and_realistic(api: httpx.Client) -> None:
    contacts = _search(api, pageLimit=500).json()["contacts"]
    emails = [c["email"] for c in contacts if c["email"]]
    assert any(e != e.strip() or e != e.lower() for e in emails), "some emails are padded or upper-case"
    assert any("@" not in e or e.endswith("@") for e in emails) or any(" at " in e for e in emails)
    formats = {c["phone"][:2] for c in contacts if c["phone"]}
    assert len(formats) > 2, "phones come in several formats"
    with_children = [c["id"] for c in contacts if api.get(f"/contacts/{c['id']}/tasks").json()["tasks"]]
    assert with_children
    with (
        Sandbox(SandboxConfig(contacts=60, seed=7, rate_limits="off")) as again,
        httpx.Client(base_url=again.base_url("highlevel"), headers=HEADERS) as other,
    ):
        page = other.post("/contacts/search", json={"locationId": LOCATION, "pageLimit": 500}).json()
    ids = {c["id"] for c in page["contacts"]}
    assert ids == {c["id"] for c in contacts}


def test_rate_limit_headers_and_429(hl_url: str, api: httpx.Client) -> None:
    httpx.post(f"{hl_url}/_sandbox/rate-limits", json={"enabled": True, "burst_max": 5, "interval_ms": 60_000})
    statuses = []
    for _ in range(6):
        response = api.get("/contacts/search/duplicate", params={"locationId": LOCATION, "email": "a@b.co"})
        statuses.append(response.status_code)
        for header in (
            "X-RateLimit-Limit-Daily",
            "X-RateLimit-Daily-Remaining",
            "X-RateLimit-Interval-Milliseconds",
            "X-RateLimit-Max",
            "X-RateLimit-Remaining",
        ):
            assert header in response.headers
    assert statuses == [200] * 5 + [429]
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.json()["statusCode"] == 429
    httpx.post(f"{hl_url}/_sandbox/rate-limits", json={"burst_max": 100, "daily_limit": 2})
    api.get("/contacts/search/duplicate", params={"locationId": LOCATION, "email": "a@b.co"})
    api.get("/contacts/search/duplicate", params={"locationId": LOCATION, "email": "a@b.co"})
    daily = api.get("/contacts/search/duplicate", params={"locationId": LOCATION, "email": "a@b.co"})
    assert daily.status_code == 429 and daily.headers["X-RateLimit-Daily-Remaining"] == "0"


def test_oauth_refresh_tokens_rotate(hl_url: str) -> None:
    code = httpx.post(f"{hl_url}/_sandbox/oauth/code").json()["code"]
    form = {"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret"}
    first = httpx.post(f"{hl_url}/oauth/token", data={**form, "grant_type": "authorization_code", "code": code})
    assert first.status_code == 200
    tokens = first.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 86399 and tokens["locationId"] == LOCATION
    second = httpx.post(
        f"{hl_url}/oauth/token", data={**form, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert second.status_code == 200 and second.json()["refresh_token"] != tokens["refresh_token"]
    reused = httpx.post(
        f"{hl_url}/oauth/token", data={**form, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert reused.status_code == 401
    ok = httpx.get(
        f"{hl_url}/contacts/search/duplicate",
        params={"locationId": LOCATION, "email": "a@b.co"},
        headers={"Authorization": f"Bearer {second.json()['access_token']}", "Version": "2021-07-28"},
    )
    assert ok.status_code == 200


def test_injected_faults(hl_url: str, api: httpx.Client) -> None:
    httpx.post(f"{hl_url}/_sandbox/faults", json={"error_rate": 1.0})
    failed = api.get("/contacts/search/duplicate", params={"locationId": LOCATION, "email": "a@b.co"})
    assert failed.status_code == 503 and failed.json()["statusCode"] == 503
    stats = httpx.get(f"{hl_url}/_sandbox/stats").json()
    assert stats["by_status"]["503"] == 1


def test_deprecated_list_business_list_and_single_notes(api: httpx.Client) -> None:
    seen: list[str] = []
    params: dict[str, object] = {"locationId": LOCATION, "limit": 25}
    while True:
        body = api.get("/contacts/", params=params).json()
        seen += [c["id"] for c in body["contacts"]]
        assert body["meta"]["total"] == 60
        if not body["meta"]["nextPageUrl"]:
            break
        params = {**params, "startAfter": body["meta"]["startAfter"], "startAfterId": body["meta"]["startAfterId"]}
    assert len(seen) == len(set(seen)) == 60
    assert api.get("/contacts/", params={"locationId": LOCATION, "limit": 101}).status_code == 422

    cid = api.post("/contacts/", json={"locationId": LOCATION, "email": "biz@example.com", "businessId": "biz-1"})
    contact_id = cid.json()["contact"]["id"]
    business = api.get("/contacts/business/biz-1", params={"locationId": LOCATION}).json()
    assert business["count"] == 1 and business["contacts"][0]["id"] == contact_id

    note = api.post(f"/contacts/{contact_id}/notes", json={"body": "hello"}).json()["note"]
    assert api.get(f"/contacts/{contact_id}/notes/{note['id']}").json()["note"]["body"] == "hello"
    assert api.delete(f"/contacts/{contact_id}/notes/{note['id']}").json()["succeded"] is True
    assert api.get(f"/contacts/{contact_id}/notes/{note['id']}").status_code == 404
    task = api.post(
        f"/contacts/{contact_id}/tasks", json={"title": "t", "dueDate": "2026-12-01T00:00:00Z", "completed": False}
    ).json()["task"]
    assert api.get(f"/contacts/{contact_id}/tasks/{task['id']}").json()["task"]["id"] == task["id"]
