"""HighLevel's own Python SDK (`gohighlevel-api-client`) works against the stand-in with only the base URL changed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from etl_tests.conftest import LOCATION, TOKEN

highlevel = pytest.importorskip("highlevel")


def test_official_sdk_round_trip(hl_url: str) -> None:
    class SandboxHighLevel(highlevel.HighLevel):  # type: ignore[misc, name-defined]
        BASE_URL = hl_url  # the only change: where the SDK sends its requests

    async def scenario() -> dict[str, Any]:
        ghl = SandboxHighLevel(private_integration_token=TOKEN)
        try:
            found = await ghl.contacts.search_contacts_advanced({"locationId": LOCATION, "pageLimit": 5})
            created = await ghl.contacts.create_contact(
                {"locationId": LOCATION, "firstName": "Sdk", "email": "sdk.user@example.com"}
            )
            contact_id = created["contact"]["id"]
            task = await ghl.contacts.create_task(
                contact_id, {"title": "From the SDK", "dueDate": "2026-12-24T09:00:00Z", "completed": False}
            )
            tasks = await ghl.contacts.get_all_tasks(contact_id)
            dup = await ghl.contacts.get_duplicate_contact(location_id=LOCATION, email="sdk.user@example.com")
            return {"found": found, "task": task, "tasks": tasks, "dup": dup, "id": contact_id}
        finally:
            await ghl.close()

    out = asyncio.run(scenario())
    assert out["found"]["total"] == 60 and len(out["found"]["contacts"]) == 5
    assert out["task"]["task"]["title"] == "From the SDK"
    assert [t["title"] for t in out["tasks"]["tasks"]] == ["From the SDK"]
    assert out["dup"]["contact"]["id"] == out["id"]
