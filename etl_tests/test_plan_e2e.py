"""Plan end to end: extracted and reconciled sandboxes → changesets in the outbox, idempotent, dry run logs only."""

from __future__ import annotations

from importlib import resources as pkg
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from etl_project.defs.load_assets import changeset_assets
from etl_project.defs.reconcile_assets import SyncConfigResource, reconcile_contacts
from etl_project.sandbox.server import Sandbox
from etl_tests.test_extract_e2e import ASSETS, today
from etl_tests.test_reconcile_e2e import rows

pytestmark = pytest.mark.e2e


def plan(resources: dict[str, Any], config: SyncConfigResource) -> dict[str, Any]:
    result = dg.materialize([reconcile_contacts, *changeset_assets], resources={**resources, "sync_config": config})
    assert result.success
    return {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None
    }


@pytest.mark.usefixtures("history")
def test_changesets_are_stored_once_and_only_for_real_differences(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    first = plan(resources, SyncConfigResource())
    sendapp, highlevel = first["sendapp_changeset"], first["highlevel_changeset"]
    assert sendapp["create"] > 0, "HighLevel people with a phone or email missing from SendApp are created there"
    assert highlevel["create"] == 0, "HighLevel is update-only in the shipped config"
    stored = rows(resources, "SELECT count(*) FROM outbox")[0][0]
    assert (
        stored
        == sendapp["operations"] + highlevel["operations"]
        == sendapp["new_in_outbox"] + highlevel["new_in_outbox"]
    )
    creates = rows(resources, "SELECT payload FROM outbox WHERE platform = 'sendapp' AND operation = 'create'")
    assert all("+" not in str(p) for (p,) in creates if "number" in str(p)), "SendApp numbers are digits only"

    again = plan(resources, SyncConfigResource())
    assert again["sendapp_changeset"]["new_in_outbox"] == 0 and again["highlevel_changeset"]["new_in_outbox"] == 0
    assert rows(resources, "SELECT count(*) FROM outbox")[0][0] == stored
    logged = rows(resources, "SELECT status, count(*) FROM sync_log GROUP BY ALL")
    assert logged == [("planned", stored)], "each row is logged as planned once, when it enters the outbox"


@pytest.mark.usefixtures("history")
def test_dry_run_logs_and_stores_nothing(sandbox: Sandbox, resources: dict[str, Any], tmp_path: Path) -> None:
    shipped = pkg.files("etl_project.sync").joinpath("default_sync.toml").read_text()
    config = tmp_path / "sync.toml"
    config.write_text(shipped.replace("dry_run = false", "dry_run = true"))
    out = plan(resources, SyncConfigResource(path=str(config)))
    assert out["sendapp_changeset"]["operations"] > 0 and out["sendapp_changeset"]["dry_run"] is True
    assert rows(resources, "SELECT count(*) FROM outbox") == [(0,)]
    assert rows(resources, "SELECT DISTINCT status FROM sync_log") == [("dry_run",)]


@pytest.mark.usefixtures("history")
def test_an_edit_in_sendapp_plans_one_highlevel_update(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    import httpx

    from etl_tests.conftest import SENDAPP_KEY

    plan(resources, SyncConfigResource())
    person, sendapp_id = rows(
        resources,
        """
        SELECT l.person_id, l.platform_id FROM identity_links l JOIN golden_contacts g USING (person_id)
        WHERE l.platform = 'sendapp' AND 'highlevel' = ANY(g.platforms) ORDER BY 1 LIMIT 1""",
    )[0]
    with httpx.Client(base_url=sandbox.api_url("sendapp"), headers={"X-API-Key": SENDAPP_KEY}) as sa:
        assert sa.put(f"/contacts/{sendapp_id}", json={"first_name": "Edited"}).status_code == 200
    assert dg.materialize(ASSETS, resources=resources, partition_key=today().isoformat()).success
    out = plan(resources, SyncConfigResource())
    assert out["highlevel_changeset"]["new_in_outbox"] >= 1
    updates = rows(
        resources,
        "SELECT payload FROM outbox WHERE platform = 'highlevel' AND person_id = ? "
        "AND status = 'planned' AND payload->>'firstName' = 'Edited'",
        [person],
    )
    assert len(updates) == 1, "flow 2: the SendApp edit is planned for HighLevel, once"
    assert not rows(
        resources,
        "SELECT 1 FROM outbox WHERE platform = 'sendapp' AND person_id = ? AND payload->>'first_name' = 'Edited'",
        [person],
    ), "and never echoed back"
