"""Reconcile end to end: extract all three sandboxes, then identities and golden records through Dagster."""

from __future__ import annotations

from typing import Any

import dagster as dg
import duckdb
import httpx
import pytest

from etl_project.defs.reconcile_assets import SyncConfigResource, reconcile_contacts
from etl_project.sandbox.server import Sandbox
from etl_tests.conftest import SENDAPP_KEY
from etl_tests.test_extract_e2e import ASSETS, today

pytestmark = pytest.mark.e2e

EVERYTHING = [*ASSETS, reconcile_contacts]


def run(resources: dict[str, Any], **kwargs: Any) -> dg.ExecuteInProcessResult:
    """Extract (`kwargs`: the partition or range), then reconcile; without `kwargs`, reconcile only."""
    if kwargs:
        assert dg.materialize(ASSETS, resources=resources, **kwargs).success
    result = dg.materialize(
        [reconcile_contacts],
        resources={**resources, "sync_config": SyncConfigResource()},
        selection=["contact_identities", "golden_contacts"],
    )
    assert result.success
    return result


def rows(resources: dict[str, Any], sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(resources["duckdb"].database, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.usefixtures("history")
def test_one_identity_per_person_across_formats_and_a_stable_rerun(resources: dict[str, Any]) -> None:
    result = run(resources)
    (meta,) = [
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("contact_identities")
    ]
    assert meta["matched_by_email"].value > 0 and meta["matched_by_phone"].value > 0
    in_all = rows(resources, "SELECT person_id, email, phone FROM golden_contacts WHERE len(platforms) = 3")
    assert in_all, "the seed puts some people in all three platforms"
    person, email, phone = in_all[0]
    linked = rows(
        resources, "SELECT platform, platform_id FROM identity_links WHERE person_id = ? ORDER BY 1", [person]
    )
    assert [p for p, _ in linked] == ["highlevel", "sendapp", "sendowl"]
    hl_id = next(i for p, i in linked if p == "highlevel")
    raw_email, raw_phone = rows(resources, "SELECT email, phone FROM ghl_contacts WHERE id = ?", [hl_id])[0]
    assert raw_email.strip().lower() == email and phone.startswith("+1")
    sendapp_number = rows(
        resources, "SELECT number FROM sendapp_contacts WHERE id = ?", [next(i for p, i in linked if p == "sendapp")]
    )[0][0]
    assert "+" + sendapp_number == phone and raw_phone != sendapp_number, "one phone, two spellings"

    before_links = rows(resources, "SELECT * EXCLUDE (linked_at) FROM identity_links ORDER BY ALL")
    before_golden = rows(resources, "SELECT * EXCLUDE (computed_at) FROM golden_contacts ORDER BY ALL")
    run(resources, partition_key=today().isoformat())
    assert rows(resources, "SELECT * EXCLUDE (linked_at) FROM identity_links ORDER BY ALL") == before_links
    assert rows(resources, "SELECT * EXCLUDE (computed_at) FROM golden_contacts ORDER BY ALL") == before_golden


@pytest.mark.usefixtures("history")
def test_conflicting_edits_resolve_by_policy(sandbox: Sandbox, resources: dict[str, Any]) -> None:
    run(resources)
    person, sendapp_id = rows(
        resources,
        """
        SELECT l.person_id, l.platform_id FROM identity_links l JOIN golden_contacts g USING (person_id)
        WHERE l.platform = 'sendapp' AND 'highlevel' = ANY(g.platforms) AND g.email IS NOT NULL LIMIT 1""",
    )[0]
    hl_email = rows(resources, "SELECT email FROM golden_contacts WHERE person_id = ?", [person])[0][0]
    with httpx.Client(base_url=sandbox.api_url("sendapp"), headers={"X-API-Key": SENDAPP_KEY}) as sa:
        edited = sa.put(f"/contacts/{sendapp_id}", json={"first_name": "Renamed", "email": "other@example.com"})
        assert edited.status_code == 200
    run(resources, partition_key=today().isoformat())
    first_name, email = rows(resources, "SELECT first_name, email FROM golden_contacts WHERE person_id = ?", [person])[
        0
    ]
    assert first_name == "Renamed", "first_name: last writer wins, and SendApp wrote last"
    assert email == hl_email, "email: HighLevel is the source of truth in the shipped config"
