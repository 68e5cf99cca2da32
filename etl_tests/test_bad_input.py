"""One bad record never stops the others: a corpus of odd records (`malformed_records.json`) mixed into real-looking
pages goes through each client, the extraction run and a real DuckDB file. Good records land at the right instant,
each bad one is quarantined with its reason, and the step succeeds."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from etl_project.extract.runs import extract_children, extract_updated
from etl_project.platforms.http import ApiClient
from etl_tests import bad_input_helpers as h


@dataclass(frozen=True)
class Case:
    platform: str
    kind: str
    table: str
    updated_column: str
    good: Callable[[int], dict[str, Any]]
    serve: Callable[[list[dict[str, Any]]], h.Handler]
    client: Callable[[h.Handler], ApiClient]
    pages: Callable[[Any], Any]


CASES = {
    "highlevel_contacts": Case(
        "highlevel", "contacts", "ghl_contacts", "date_updated", h.highlevel_contact, h.highlevel_search,
        h.highlevel_client, lambda c: c.iter_contacts_updated,
    ),
    "sendapp_contacts": Case(
        "sendapp", "contacts", "sendapp_contacts", "updated_at", h.sendapp_contact, h.sendapp_pages,
        h.sendapp_client, lambda c: c.iter_contacts_updated,
    ),
    "sendowl_orders": Case(
        "sendowl", "orders", "sendowl_orders", "updated_at", h.sendowl_order, h.sendowl_pages,
        h.sendowl_client, lambda c: lambda start, _end: c.iter_orders(updated_after=start),
    ),
}  # fmt: skip


def corpus_page(name: str, case: Case) -> list[dict[str, Any]]:
    """Ten good records with the corpus's odd ones in between; each odd one is marked with its case name."""
    page = [case.good(i) for i in range(10)]
    for n, item in enumerate(h.CORPUS[name]):
        record = {**case.good(100 + n), **item.get("patch", {}), "probe_case": item["case"]}
        for key in item.get("drop", []):
            record.pop(key)
        page.insert(1 + 2 * n % len(page), record)
    return page


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("name", list(CASES))
def test_odd_records_land_or_are_quarantined_and_the_step_succeeds(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    wh = h.make_warehouse(tmp_path / "w.duckdb")
    window = h.live_window()
    with case.client(case.serve(corpus_page(name, case))) as client:
        [report] = extract_updated(
            client, wh, case.platform, case.kind, case.pages(client), [window], lambda m: m.updated_at
        )

    expected = h.CORPUS[name]
    landed = dict(
        wh.query(
            f"SELECT payload->>'probe_case', {case.updated_column} FROM {case.table} "
            "WHERE payload->>'probe_case' IS NOT NULL"
        )
    )
    held = dict(
        wh.query("SELECT payload->>'probe_case', reason FROM quarantine WHERE platform = $p", {"p": case.platform})
    )
    for item in expected:
        if item["expect"] == "land":
            assert item["case"] not in held, (item["case"], held.get(item["case"]))
            assert landed.get(item["case"]) == instant(item["updated"]), item["case"]
        else:
            assert item["case"] not in landed, item["case"]
            assert item["reason"] in held.get(item["case"], "<not quarantined>"), item["case"]
    good = wh.query(f"SELECT count(*) FROM {case.table} WHERE payload->>'probe_case' IS NULL")
    assert good == [(10,)], "every good record of the page landed"
    quarantined = sum(1 for item in expected if item["expect"] == "quarantine")
    assert report.land.quarantined == quarantined and len(held) == quarantined
    assert wh.query("SELECT count(*) FROM extract_ledger") == [(1,)], "the window completed"
    cursor = wh.get_cursor(case.platform, case.kind)
    assert cursor is not None and cursor <= datetime.now(UTC), "a future-dated record never moves the cursor"


def test_canonical_records_land_byte_for_byte_and_odd_times_in_iso_utc(tmp_path: Path) -> None:
    wh = h.make_warehouse(tmp_path / "w.duckdb")
    plain = h.highlevel_contact(1)
    odd = {**h.highlevel_contact(2), "dateUpdated": 1772618400000}
    with h.highlevel_client(h.highlevel_search([plain, odd])) as client:
        extract_updated(client, wh, "highlevel", "contacts", client.iter_contacts_updated, [h.live_window()], _updated)
    rows = dict(wh.query("SELECT record_id, payload FROM raw_records"))
    assert json.loads(rows["hl0001"]) == plain
    assert json.loads(rows["hl0002"])["dateUpdated"] == "2026-03-04T10:00:00.000Z"


def test_the_cursor_never_passes_the_time_of_the_request(tmp_path: Path) -> None:
    """A clock a little ahead (within the day of slack): the record lands, the cursor stops at fetch time."""
    wh = h.make_warehouse(tmp_path / "w.duckdb")
    ahead = (datetime.now(UTC) + timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    records = [h.highlevel_contact(1), h.highlevel_contact(2, updated=ahead)]
    with h.highlevel_client(h.highlevel_search(records)) as client:
        extract_updated(client, wh, "highlevel", "contacts", client.iter_contacts_updated, [h.live_window()], _updated)
    finished = datetime.now(UTC)
    assert wh.query("SELECT count(*) FROM ghl_contacts") == [(2,)], "the record stamped ahead still lands"
    cursor = wh.get_cursor("highlevel", "contacts")
    assert cursor is not None and cursor <= finished


def test_only_parents_with_a_usable_id_have_their_children_fetched(tmp_path: Path) -> None:
    """A SendApp contact with a non-numeric id is quarantined and is no parent; one quarantined for its email is."""
    wh = h.make_warehouse(tmp_path / "w.duckdb")
    bad_id = {**h.sendapp_contact(1), "id": "abc-1"}
    bad_email = {**h.sendapp_contact(2), "email": "not an email"}
    contacts = [h.sendapp_contact(0), bad_id, bad_email]
    with h.sendapp_client(h.sendapp_pages(contacts)) as client:
        extract_updated(client, wh, "sendapp", "contacts", client.iter_contacts_updated, [h.live_window()], _updated)
    window = h.live_window()
    [parents] = wh.parents_updated_between("sendapp", "contacts", [(window.read_from, window.read_to)])
    assert parents == ["100", "102"]

    asked: list[str] = []

    def tasks(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        contact_id = int(request.url.path.split("/")[-2])
        task = {"id": 9000 + contact_id, "contact_id": contact_id, "title": "Call", "status": "open",
                "updated_at": "2026-03-02T09:00:00Z"}  # fmt: skip
        return httpx.Response(200, json={"data": [task]})

    with h.sendapp_client(tasks) as client:
        # The fetch the `sendapp_tasks` asset uses: SendApp paths need the numeric id.
        [report] = extract_children(
            client, wh, "sendapp", "tasks", lambda cid: client.get_tasks(int(cid)), [window], [parents]
        )
    assert asked == ["/api/contacts/100/tasks", "/api/contacts/102/tasks"]
    assert report.land.records == 2


def _updated(model: Any) -> datetime:
    return model.updated_at  # type: ignore[no-any-return]
