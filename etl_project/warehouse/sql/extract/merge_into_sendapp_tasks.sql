INSERT INTO sendapp_tasks
SELECT
    record_id, parent_id,
    payload::JSON ->> 'title',
    TRY_CAST(payload::JSON ->> 'due_at' AS TIMESTAMPTZ),
    payload::JSON ->> 'status',
    TRY_CAST(payload::JSON ->> 'updated_at' AS TIMESTAMPTZ),
    payload::JSON, payload_hash, $partition_key, $run_id, $extracted_at, false, NULL
FROM batch
ON CONFLICT (id) DO UPDATE SET
    contact_id = excluded.contact_id, title = excluded.title, due_at = excluded.due_at, status = excluded.status,
    updated_at = excluded.updated_at, payload = excluded.payload, payload_hash = excluded.payload_hash,
    partition_key = excluded.partition_key, run_id = excluded.run_id, extracted_at = excluded.extracted_at,
    is_deleted = false, deleted_at = NULL
WHERE excluded.extracted_at >= sendapp_tasks.extracted_at;
