"""The fault knobs of `POST /_sandbox/faults`, over real loopback HTTP: each misbehaves as a platform would, and
is off by default."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from etl_project.sandbox.server import Sandbox
from etl_tests.conftest import HEADERS, SENDAPP_KEY, SENDOWL_KEY, SENDOWL_SECRET


@pytest.fixture
def sa(sendapp_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sendapp_url, headers={"X-API-Key": SENDAPP_KEY}, timeout=10) as client:
        yield client


def set_faults(sandbox: Sandbox, name: str, **knobs: Any) -> dict[str, Any]:
    answer = httpx.post(f"{sandbox.base_url(name)}/_sandbox/faults", json=knobs)
    answer.raise_for_status()
    return dict(answer.json())


def a_contact(sa: httpx.Client) -> int:
    return int(sa.get("/contacts", params={"per_page": 1}).json()["data"][0]["id"])


def test_every_knob_is_off_by_default(sandbox: Sandbox) -> None:
    for name in ("highlevel", "sendowl", "sendapp"):
        knobs = set_faults(sandbox, name)
        assert knobs["apply_then_error_rate"] == knobs["truncate_rate"] == knobs["non_json_rate"] == 0
        assert knobs["reset_rate"] == knobs["rate_limit_storm"] == 0 and knobs["reset_after_apply"] is False


def test_a_write_applied_then_answered_503(sandbox: Sandbox, sa: httpx.Client) -> None:
    contact = a_contact(sa)
    set_faults(sandbox, "sendapp", apply_then_error_rate=1.0, apply_then_error_path="/api/contacts/", error_status=503)
    answer = sa.post(f"/contacts/{contact}/notes", json={"body": "applied anyway"})
    assert answer.status_code == 503
    notes = sandbox.platforms["sendapp"].store.notes[contact].values()
    assert [n["body"] for n in notes].count("applied anyway") == 1, "the 503 came after the write was applied"
    refused = sa.post(f"/contacts/{contact}/notes", json={"body": ""})  # a refusal stays a refusal
    assert refused.status_code == 422
    assert sa.get(f"/contacts/{contact}/notes").status_code == 200, "reads are not touched"
    assert sandbox.platforms["sendapp"].stats.injected["apply_then_error"] == 1


def test_truncated_and_html_bodies_are_200s(sandbox: Sandbox, sa: httpx.Client) -> None:
    whole = sa.get("/contacts", params={"per_page": 5}).content
    set_faults(sandbox, "sendapp", truncate_rate=1.0)
    cut = sa.get("/contacts", params={"per_page": 5})
    assert cut.status_code == 200 and whole.startswith(cut.content) and len(cut.content) < len(whole)
    with pytest.raises(json.JSONDecodeError):
        cut.json()
    set_faults(sandbox, "sendapp", truncate_rate=0.0, non_json_rate=1.0)
    page = sa.get("/contacts")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.text.startswith("<html>")
    assert sandbox.platforms["sendapp"].stats.injected == {"truncate": 1, "non_json": 1}


# A reset reads as a peer that closed mid-answer or as an RST, by timing: either way, no answer.
NO_ANSWER = (httpx.RemoteProtocolError, httpx.ReadError)


def test_a_reset_before_or_after_the_write_is_applied(sandbox: Sandbox, sa: httpx.Client) -> None:
    contact = a_contact(sa)
    notes = sandbox.platforms["sendapp"].store.notes
    set_faults(sandbox, "sendapp", reset_rate=1.0, fault_path="/api/contacts/")
    with pytest.raises(NO_ANSWER):
        sa.post(f"/contacts/{contact}/notes", json={"body": "never seen"})
    assert "never seen" not in [n["body"] for n in notes[contact].values()]
    set_faults(sandbox, "sendapp", reset_after_apply=True)
    with pytest.raises(NO_ANSWER):
        sa.post(f"/contacts/{contact}/notes", json={"body": "applied, answer lost"})
    assert "applied, answer lost" in [n["body"] for n in notes[contact].values()]
    set_faults(sandbox, "sendapp", reset_rate=0.0)
    assert sa.get(f"/contacts/{contact}/notes").status_code == 200, "the next connection works"


def test_a_429_storm_with_and_without_retry_after_then_calm(sandbox: Sandbox) -> None:
    auth = httpx.BasicAuth(SENDOWL_KEY, SENDOWL_SECRET)
    headers = {"Accept": "application/json"}
    with httpx.Client(base_url=sandbox.base_url("sendowl"), auth=auth, headers=headers, timeout=10) as so:
        set_faults(sandbox, "sendowl", rate_limit_storm=1.0, storm_retry_after=2)
        storm = so.get("/api/v1_3/orders")
        assert storm.status_code == 429 and storm.headers["Retry-After"] == "2"
        set_faults(sandbox, "sendowl", storm_retry_after=0)
        bare = so.get("/api/v1_3/orders")
        assert bare.status_code == 429 and "Retry-After" not in bare.headers
        set_faults(sandbox, "sendowl", storm_seconds=0.3)  # the storm ends by itself
        deadline = time.monotonic() + 30
        while (status := so.get("/api/v1_3/orders").status_code) == 429 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert status == 200
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS, timeout=10) as hl:
        set_faults(sandbox, "highlevel", rate_limit_storm=1.0, fault_path="/contacts/search")
        assert hl.get("/contacts/search/duplicate", params={"locationId": "x"}).status_code == 429
        assert hl.get("/contacts/some-id").status_code != 429, "only paths under fault_path"
