"""Write back end to end through Dagster against the sandboxes: flows 1 and 2, exactly once, and the guards."""

from __future__ import annotations

import json
from importlib import resources as pkg
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import pytest

from etl_project.defs.load_assets import changeset_assets
from etl_project.defs.reconcile_assets import SyncConfigResource, reconcile_contacts
from etl_project.defs.resources import get_warehouse
from etl_project.sandbox.server import Sandbox
from etl_project.warehouse.outbox import Outbox
from etl_tests.conftest import HEADERS, LOCATION, SENDAPP_KEY
from etl_tests.sync_helpers import (
    extract,
    highlevel_contact,
    metadata,
    reset_stats,
    sendapp_contacts,
    sync,
    write_requests,
)
from etl_tests.test_reconcile_e2e import rows

pytestmark = pytest.mark.e2e


def config_with(tmp_path: Path, old: str, new: str) -> SyncConfigResource:
    shipped = pkg.files("etl_project.sync").joinpath("default_sync.toml").read_text()
    assert old in shipped
    path = tmp_path / "sync.toml"
    path.write_text(shipped.replace(old, new))
    return SyncConfigResource(path=str(path))


@pytest.mark.usefixtures("history")
def test_flows_1_and_2_converge_and_a_quiet_run_sends_zero_writes(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    first = sync(resources)
    assert first.success
    meta = metadata(first)
    writes = meta["sendapp_writes"]
    assert writes["acknowledged"] + writes["dead"] == meta["sendapp_changeset"]["operations"] > 0
    assert writes["failed"] == 0, writes
    # The seed has a SendApp contact quarantined for a bad email: its number is taken, SendApp refuses (409),
    # and the row is given up with that reason instead of being retried or merged blindly.
    dead = rows(resources, "SELECT last_error FROM outbox WHERE status = 'dead'")
    assert len(dead) == writes["dead"] <= 1 and all("409" in e for (e,) in dead)

    # Every HighLevel person with a phone is now on SendApp, once, with the golden values.
    numbers = [c["number"] for c in sendapp_contacts(sandbox)]
    assert len(numbers) == len(set(numbers)), "no duplicate SendApp contacts"
    golden = rows(resources, "SELECT phone, first_name FROM golden_contacts WHERE 'highlevel' = ANY(platforms)")
    by_number = {c["number"]: c for c in sendapp_contacts(sandbox)}
    for phone, first_name in golden:
        if phone:
            assert by_number[phone.lstrip("+")]["first_name"] == (first_name or "")

    # The next run extracts the sync's own writes, and must find nothing to do: zero write requests.
    extract(resources)
    reset_stats(sandbox)
    second = sync(resources, allow_mass_change=False)
    assert second.success
    assert write_requests(sandbox) == {"highlevel": 0, "sendowl": 0, "sendapp": 0}
    again = metadata(second)
    assert again["sendapp_changeset"]["new_in_outbox"] == again["highlevel_changeset"]["new_in_outbox"] == 0
    assert again["sendapp_changeset"]["operations"] == writes["dead"], "only the refused create is planned again"


@pytest.mark.usefixtures("history")
def test_create_in_highlevel_appears_in_sendapp_and_an_edit_in_sendapp_updates_highlevel(
    sandbox: Sandbox, resources: dict[str, Any]
) -> None:
    assert sync(resources).success
    extract(resources)
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS) as hl:
        body = {"locationId": LOCATION, "firstName": "Nia", "lastName": "Okafor", "email": "Nia.Okafor@Example.com"}
        created = hl.post("/contacts/", json={**body, "phone": "(415) 555-0199"})
        assert created.status_code == 201
    extract(resources)
    assert sync(resources, allow_mass_change=False).success
    (nia,) = [c for c in sendapp_contacts(sandbox) if c["number"] == "14155550199"]
    assert (nia["first_name"], nia["last_name"], nia["email"]) == ("Nia", "Okafor", "nia.okafor@example.com")

    # Flow 2: the WhatsApp team corrects the name in SendApp; HighLevel follows, and nothing echoes back.
    with httpx.Client(base_url=sandbox.api_url("sendapp"), headers={"X-API-Key": SENDAPP_KEY}) as sa:
        assert sa.put(f"/contacts/{nia['id']}", json={"last_name": "Okafor-Reyes"}).status_code == 200
    extract(resources)
    reset_stats(sandbox)
    result = sync(resources, allow_mass_change=False)
    assert result.success
    assert write_requests(sandbox) == {"highlevel": 1, "sendowl": 0, "sendapp": 0}
    hl_id = created.json()["contact"]["id"]
    assert highlevel_contact(sandbox, hl_id)["lastName"] == "Okafor-Reyes"
    log = rows(
        resources,
        "SELECT platform, operation, fields_changed, status FROM sync_log WHERE run_id = ? ORDER BY ALL",
        [result.run_id],
    )
    assert ("highlevel", "update", ["last_name"], "acknowledged") in log
    extract(resources)
    reset_stats(sandbox)
    assert sync(resources, allow_mass_change=False).success
    assert write_requests(sandbox) == {"highlevel": 0, "sendowl": 0, "sendapp": 0}, "no ping-pong"


@pytest.mark.usefixtures("history")
def test_dry_run_and_the_mass_change_guard_write_nothing(
    sandbox: Sandbox, resources: dict[str, Any], tmp_path: Path
) -> None:
    reset_stats(sandbox)
    dry = sync(resources, config_with(tmp_path, "dry_run = false", "dry_run = true"))
    assert dry.success and write_requests(sandbox)["sendapp"] == 0
    assert metadata(dry)["sendapp_writes"]["sent"] == 0

    # The first sync updates far more than 25 % of SendApp's records: the guard stops SendApp's writes, and says
    # how to approve them; HighLevel's writes go on.
    guarded = sync(resources, allow_mass_change=False)
    assert guarded.success
    checks = {(e.asset_key.to_user_string(), e.check_name): e for e in guarded.get_asset_check_evaluations()}
    guard = checks[("sendapp_changeset", "mass_change_guard")]
    assert guard.passed is False and "etl/approve = sendapp-" in (guard.description or "")
    assert checks[("sendapp_changeset", "unique_platform_ids")].passed is True
    assert checks[("sendapp_writes", "writes_accepted")].passed is False
    assert metadata(guarded)["sendapp_writes"]["sent"] == 0 and "blocked" in metadata(guarded)["sendapp_writes"]
    assert "highlevel_writes" in metadata(guarded), "the other target carries on"
    assert write_requests(sandbox)["sendapp"] == 0
    assert rows(resources, "SELECT count(*) FROM outbox WHERE platform = 'sendapp' AND status <> 'planned'") == [(0,)]

    # Approved once by the tag the check names: written, and the same cause never asks again.
    approval = (guard.description or "").split("etl/approve = ")[1].split()[0]
    approved = sync(resources, allow_mass_change=False, tags={"etl/approve": approval})
    assert approved.success and metadata(approved)["sendapp_writes"]["acknowledged"] > 0
    assert rows(resources, "SELECT count(*) FROM guard_approvals WHERE platform = 'sendapp'")[0][0] >= 1


@pytest.mark.usefixtures("history")
def test_a_create_whose_response_was_lost_is_found_not_duplicated(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    planned = dg.materialize(
        [reconcile_contacts, *changeset_assets], resources={**resources, "sync_config": SyncConfigResource()}
    )
    assert planned.success
    key, person, payload = rows(
        resources,
        "SELECT idempotency_key, person_id, payload FROM outbox "
        "WHERE platform = 'sendapp' AND operation = 'create' ORDER BY 1 LIMIT 1",
    )[0]
    # The call went out and SendApp made the contact, but the answer never came back (the process died).
    Outbox(get_warehouse(resources["duckdb"])).mark_sent(key, "crashed-run")
    with httpx.Client(base_url=sandbox.api_url("sendapp"), headers={"X-API-Key": SENDAPP_KEY}) as sa:
        made = sa.post("/contacts", json=json.loads(payload))
        assert made.status_code == 201

    result = sync(resources)
    assert result.success
    assert metadata(result)["sendapp_writes"]["adopted"] == 1
    numbers = [c["number"] for c in sendapp_contacts(sandbox)]
    assert len(numbers) == len(set(numbers)), "the lost create was not made twice"
    assert rows(resources, "SELECT status, attempts FROM outbox WHERE idempotency_key = ?", [key]) == [
        ("acknowledged", 2)
    ]
    link = rows(
        resources,
        "SELECT person_id FROM identity_links WHERE platform = 'sendapp' AND platform_id = ?",
        [str(made.json()["data"]["id"])],
    )
    assert link == [(person,)], "the found record is linked to the person it was created for"


@pytest.mark.usefixtures("history")
def test_writes_to_a_real_platform_need_the_opt_in(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    from etl_project.defs.resources import SendAppResource

    real = {**resources, "sendapp": SendAppResource(base_url="https://app.sendapp.ai/api", api_key="not-used")}
    result = sync(real)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "allow_real_writes" in str(failure.event_specific_data)
    assert rows(resources, "SELECT count(*) FROM outbox WHERE platform = 'sendapp' AND attempts > 0") == [(0,)]


@pytest.mark.usefixtures("history")
def test_a_contact_deleted_in_highlevel_is_deleted_in_sendapp_by_policy(
    sandbox: Sandbox, resources: dict[str, Any], tmp_path: Path
) -> None:
    config = config_with(tmp_path, 'mode = "upsert"\ndeletes = "ignore"', 'mode = "upsert"\ndeletes = "delete"')
    assert sync(resources, config).success
    extract(resources)
    person, hl_id, sendapp_id = rows(
        resources,
        """
        SELECT h.person_id, h.platform_id, s.platform_id FROM identity_links h
        JOIN identity_links s ON s.person_id = h.person_id AND s.platform = 'sendapp'
        JOIN golden_contacts g ON g.person_id = h.person_id AND len(g.platforms) = 2
        WHERE h.platform = 'highlevel' ORDER BY 1 LIMIT 1""",
    )[0]
    with httpx.Client(base_url=sandbox.base_url("highlevel"), headers=HEADERS) as hl:
        assert hl.delete(f"/contacts/{hl_id}").status_code == 200
    extract(resources)
    hourly = sync(resources, config, allow_mass_change=False)
    assert hourly.success and metadata(hourly)["sendapp_changeset"]["delete"] == 0, "hourly runs do not list"
    nightly = sync(resources, config, allow_mass_change=False, full=True)
    assert nightly.success
    assert metadata(nightly)["contact_presence"]["highlevel_deleted"] == 1
    assert metadata(nightly)["sendapp_writes"]["delete_acknowledged"] == 1
    assert all(str(c["id"]) != sendapp_id for c in sendapp_contacts(sandbox))
    log = rows(
        resources, "SELECT operation, status FROM sync_log WHERE person_id = ? AND run_id = ?", [person, nightly.run_id]
    )
    assert ("delete", "acknowledged") in log
    reset_stats(sandbox)
    assert sync(resources, config, allow_mass_change=False, full=True).success
    assert write_requests(sandbox)["sendapp"] == 0, "deleted once"
