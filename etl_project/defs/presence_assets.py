"""Deletion detection: a full listing of each contact platform marks records no longer there as deleted.

None of the APIs reports deletions, so the nightly (full-mode) sync lists every contact id and compares. Hourly
runs skip it: a listing costs one request per page of every contact.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from etl_project.defs.highlevel_assets import ghl_contacts
from etl_project.defs.partitions import MODE_TAG
from etl_project.defs.resources import HighLevelResource, SendAppResource, get_warehouse
from etl_project.defs.sendapp_assets import sendapp_contacts
from etl_project.warehouse.store import EmptyListing

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _listed_ids(pages: Any) -> set[str]:
    ids: set[str] = set()
    for page in pages:
        ids.update(str(model.id) for model, _ in page.valid)
        ids.update(str(r.record_id) for r in page.rejected if r.record_id is not None)  # invalid, but present
    return ids


@dg.asset(
    group_name="reconcile",
    kinds={"duckdb", "highlevel", "sendapp"},
    pool="highlevel_api",
    # The sync's one root: in a webhook-triggered run (`webhook_run.py`) the targeted re-reads land before it.
    deps=[ghl_contacts, sendapp_contacts, "webhook_highlevel_refresh", "webhook_sendowl_refresh"],
    description="In full mode (the nightly sync): lists every HighLevel and SendApp contact id and marks the "
    "landed contacts no longer listed as deleted, so identities, golden records and the delete policy see it.",
)
def contact_presence(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, highlevel: HighLevelResource, sendapp: SendAppResource
) -> dg.MaterializeResult:
    if context.run.tags.get(MODE_TAG) != "full":
        return dg.MaterializeResult(metadata={"skipped": "runs in full mode only (the nightly sync)"})
    warehouse = get_warehouse(duckdb)
    started = datetime.now(UTC)
    until = started + timedelta(days=1)
    with highlevel.get_client() as hl:
        seen = {"highlevel": _listed_ids(hl.iter_contacts_updated(EPOCH, until))}
    if sendapp.configured:  # a location may have no SendApp account
        with sendapp.get_client() as sa:
            seen["sendapp"] = _listed_ids(sa.iter_contacts_updated(EPOCH, until))
    metadata: dict[str, Any] = {}
    for platform, ids in seen.items():
        try:
            gone = warehouse.mark_missing_contacts(platform, ids, started)
        except EmptyListing as refused:  # an empty listing while contacts are landed: an outage, not deletions
            raise dg.Failure(str(refused)) from refused
        metadata |= {f"{platform}_listed": len(ids), f"{platform}_deleted": gone}
    return dg.MaterializeResult(metadata=metadata)
