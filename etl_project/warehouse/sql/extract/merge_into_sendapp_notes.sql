INSERT INTO sendapp_notes
SELECT
    record_id, parent_id,
    payload::JSON ->> 'body',
    TRY_CAST(payload::JSON ->> 'created_at' AS TIMESTAMPTZ),
    payload::JSON, payload_hash, $partition_key, $run_id, $extracted_at, false, NULL
FROM batch
ON CONFLICT (id) DO UPDATE SET
    contact_id = excluded.contact_id, body = excluded.body, created_at = excluded.created_at,
    payload = excluded.payload, payload_hash = excluded.payload_hash, partition_key = excluded.partition_key,
    run_id = excluded.run_id, extracted_at = excluded.extracted_at, is_deleted = false, deleted_at = NULL
WHERE excluded.extracted_at >= sendapp_notes.extracted_at;
