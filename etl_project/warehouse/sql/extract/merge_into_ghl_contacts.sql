-- Upsert current state. The WHERE keeps a slower, older extraction (e.g. a backfill running beside a live
-- run) from overwriting a newer version. The update time is the registry's rule for a raw contact, filled in by
-- `store.py` (`warehouse/tables.py`: dateUpdated, else dateAdded).
INSERT INTO ghl_contacts
SELECT
    record_id,
    payload::JSON ->> 'locationId',
    payload::JSON ->> 'firstName',
    payload::JSON ->> 'lastName',
    payload::JSON ->> 'name',
    payload::JSON ->> 'email',
    payload::JSON ->> 'phone',
    payload::JSON ->> 'companyName',
    payload::JSON ->> 'type',
    payload::JSON ->> 'source',
    TRY_CAST(payload::JSON ->> 'dnd' AS BOOLEAN),
    COALESCE(from_json(payload::JSON -> 'tags', '["VARCHAR"]'), []),
    payload::JSON -> 'customFields',
    TRY_CAST(payload::JSON ->> 'dateAdded' AS TIMESTAMPTZ),
    TRY_CAST({payload_updated} AS TIMESTAMPTZ),
    payload::JSON, payload_hash, $partition_key, $run_id, $extracted_at, false, NULL
FROM batch
ON CONFLICT (id) DO UPDATE SET
    location_id = excluded.location_id, first_name = excluded.first_name, last_name = excluded.last_name,
    name = excluded.name, email = excluded.email, phone = excluded.phone, company_name = excluded.company_name,
    contact_type = excluded.contact_type, source = excluded.source, dnd = excluded.dnd, tags = excluded.tags,
    custom_fields = excluded.custom_fields, date_added = excluded.date_added, date_updated = excluded.date_updated,
    payload = excluded.payload, payload_hash = excluded.payload_hash, partition_key = excluded.partition_key,
    run_id = excluded.run_id, extracted_at = excluded.extracted_at, is_deleted = false, deleted_at = NULL
WHERE excluded.date_updated >= ghl_contacts.date_updated OR ghl_contacts.date_updated IS NULL;
