"""SendApp extraction assets (group `extract`): contacts by `updated_at` window, then their tasks and notes."""

from etl_project.defs.extract_factory import child_records_asset, updated_records_asset

sendapp_contacts = updated_records_asset(
    name="sendapp_contacts",
    platform="sendapp",
    kind="contacts",
    pages=lambda client, _resource: client.iter_contacts_updated,
    updated_at=lambda contact: contact.updated_at,
    description=(
        "SendApp (WhatsApp CRM) contacts whose `updated_at` falls in the partition's day plus a lookback overlap, "
        "read with `updated_since` in ascending order. Idempotent landing as for every platform."
    ),
)

sendapp_child_assets = [
    child_records_asset(
        name=f"sendapp_{kind}",
        platform="sendapp",
        kind=kind,
        parent=sendapp_contacts,
        parent_kind="contacts",
        fetch=fetch,
        description=(
            f"SendApp {kind} of the contacts that changed in the partition's window (listed per contact; each "
            "list is complete, so one no longer listed is marked deleted)."
        ),
    )
    for kind, fetch in (
        ("tasks", lambda client: lambda contact_id: client.get_tasks(int(contact_id))),
        ("notes", lambda client: lambda contact_id: client.get_notes(int(contact_id))),
    )
]
