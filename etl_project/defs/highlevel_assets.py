"""HighLevel extraction assets (group `extract`): contacts by update window, then their children."""

from etl_project.defs.extract_factory import child_records_asset, updated_records_asset

ghl_contacts = updated_records_asset(
    name="ghl_contacts",
    platform="highlevel",
    kind="contacts",
    pages=lambda client, _resource: client.iter_contacts_updated,
    updated_at=lambda contact: contact.updated_at,
    description=(
        "HighLevel contacts whose `dateUpdated` falls in the partition's day (plus a lookback overlap: the search "
        "index lags writes). Landed idempotently: raw versions keyed by content hash, current state upserted by "
        "id. The live hourly run reads from its cursor; backfills and the nightly run read the whole day and "
        "never move the cursor."
    ),
)

ghl_child_assets = [
    child_records_asset(
        name=f"ghl_{kind}",
        platform="highlevel",
        kind=kind,
        parent=ghl_contacts,
        parent_kind="contacts",
        fetch=fetch,
        description=(
            f"HighLevel {kind} of the contacts that changed in the partition's window. The API lists {kind} per "
            "contact with no paging or date filter, so only changed contacts are fetched; each list is complete, "
            "so a child no longer listed is marked deleted."
        ),
    )
    for kind, fetch in (
        ("tasks", lambda client: client.get_tasks),
        ("notes", lambda client: client.get_notes),
        ("appointments", lambda client: client.get_appointments),
    )
]
