-- Notes carry no update time: the latest extraction wins.
INSERT INTO ghl_notes
SELECT
    record_id, parent_id,
    payload::JSON ->> 'body',
    payload::JSON ->> 'userId',
    TRY_CAST(payload::JSON ->> 'dateAdded' AS TIMESTAMPTZ),
    payload::JSON, payload_hash, $partition_key, $run_id, $extracted_at, false, NULL
FROM batch
ON CONFLICT (id) DO UPDATE SET
    contact_id = excluded.contact_id, body = excluded.body, user_id = excluded.user_id,
    date_added = excluded.date_added, payload = excluded.payload, payload_hash = excluded.payload_hash,
    partition_key = excluded.partition_key, run_id = excluded.run_id, extracted_at = excluded.extracted_at,
    is_deleted = false, deleted_at = NULL
WHERE excluded.extracted_at >= ghl_notes.extracted_at;
