"""A platform whose paging never ends (a `searchAfter` that does not advance, `has_more` stuck true on empty pages,
a page ignored) stops with an error naming the platform and path; what was read before it still lands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from etl_project.extract.runs import extract_updated
from etl_project.platforms import errors
from etl_tests import bad_input_helpers as h

MAX_REQUESTS = 50  # far beyond any page count below: a pager past it is looping


def guarded(handler: h.Handler) -> h.Handler:
    sent = [0]

    def wrapper(request: httpx.Request) -> httpx.Response:
        sent[0] += 1
        if sent[0] > MAX_REQUESTS:
            raise AssertionError("paged forever")
        return handler(request)

    return wrapper


def _updated(model: Any) -> Any:
    return model.updated_at


def test_a_search_after_that_does_not_advance_stops_and_lands_what_was_read(tmp_path: Path) -> None:
    wh = h.make_warehouse(tmp_path / "w.duckdb")
    first = [h.highlevel_contact(i) for i in range(2)]
    second = [h.highlevel_contact(i) for i in range(2, 4)]

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        rows = second if "searchAfter" in body else first
        # The platform answers every page with the same marker, so the next page is asked for forever.
        return httpx.Response(200, json={"contacts": [{**r, "searchAfter": [1, "same"]} for r in rows]})

    client = h.highlevel_client(guarded(handler), page_limit=2)
    with client, pytest.raises(errors.PlatformError) as raised:
        extract_updated(client, wh, "highlevel", "contacts", client.iter_contacts_updated, [h.live_window()], _updated)
    assert "highlevel POST /contacts/search" in str(raised.value) and "did not advance" in str(raised.value)
    assert wh.query("SELECT count(*) FROM ghl_contacts") == [(4,)], "the pages read before the loop landed"
    assert wh.query("SELECT count(*) FROM extract_ledger") == [(0,)], "the window is not complete"
    assert wh.get_cursor("highlevel", "contacts") is None, "the cursor does not move"


def test_has_more_stuck_on_empty_pages_stops_and_lands_what_was_read(tmp_path: Path) -> None:
    wh = h.make_warehouse(tmp_path / "w.duckdb")
    rows = [h.sendapp_contact(i) for i in range(3)]

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json={"data": rows if page == 1 else [], "meta": {"page": page, "has_more": True}})

    client = h.sendapp_client(guarded(handler))
    with client, pytest.raises(errors.PlatformError) as raised:
        extract_updated(client, wh, "sendapp", "contacts", client.iter_contacts_updated, [h.live_window()], _updated)
    assert "sendapp GET /contacts" in str(raised.value) and "has_more is true on empty page 2" in str(raised.value)
    assert wh.query("SELECT count(*) FROM sendapp_contacts") == [(3,)]
    assert wh.get_cursor("sendapp", "contacts") is None


def test_a_sendapp_page_parameter_ignored_is_not_read_forever() -> None:
    rows = [h.sendapp_contact(i) for i in range(3)]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": rows, "meta": {"has_more": True}})

    window = h.live_window()
    client = h.sendapp_client(guarded(handler))
    with client, pytest.raises(errors.PlatformError, match="page 2 repeats page 1"):
        list(client.iter_contacts_updated(window.read_from, window.read_to))
