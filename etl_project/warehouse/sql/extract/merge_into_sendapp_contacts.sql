-- Upsert current state; an older version (a slow backfill) never overwrites a newer one.
INSERT INTO sendapp_contacts
SELECT
    record_id,
    payload::JSON ->> 'first_name',
    payload::JSON ->> 'last_name',
    payload::JSON ->> 'number',
    payload::JSON ->> 'email',
    COALESCE(from_json(payload::JSON -> 'tags', '["VARCHAR"]'), []),
    payload::JSON -> 'custom_fields',
    TRY_CAST(payload::JSON ->> 'created_at' AS TIMESTAMPTZ),
    TRY_CAST(payload::JSON ->> 'updated_at' AS TIMESTAMPTZ),
    payload::JSON, payload_hash, $partition_key, $run_id, $extracted_at, false, NULL
FROM batch
ON CONFLICT (id) DO UPDATE SET
    first_name = excluded.first_name, last_name = excluded.last_name, number = excluded.number,
    email = excluded.email, tags = excluded.tags, custom_fields = excluded.custom_fields,
    created_at = excluded.created_at, updated_at = excluded.updated_at, payload = excluded.payload,
    payload_hash = excluded.payload_hash, partition_key = excluded.partition_key, run_id = excluded.run_id,
    extracted_at = excluded.extracted_at, is_deleted = false, deleted_at = NULL
WHERE excluded.updated_at >= sendapp_contacts.updated_at OR sendapp_contacts.updated_at IS NULL;
