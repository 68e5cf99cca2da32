-- Tasks carry no update time: the latest extraction wins.
INSERT INTO ghl_tasks
SELECT
    record_id, parent_id,
    payload::JSON ->> 'title',
    payload::JSON ->> 'body',
    payload::JSON ->> 'assignedTo',
    TRY_CAST(payload::JSON ->> 'dueDate' AS TIMESTAMPTZ),
    TRY_CAST(payload::JSON ->> 'completed' AS BOOLEAN),
    payload::JSON, payload_hash, $partition_key, $run_id, $extracted_at, false, NULL
FROM batch
ON CONFLICT (id) DO UPDATE SET
    contact_id = excluded.contact_id, title = excluded.title, body = excluded.body,
    assigned_to = excluded.assigned_to, due_date = excluded.due_date, completed = excluded.completed,
    payload = excluded.payload, payload_hash = excluded.payload_hash, partition_key = excluded.partition_key,
    run_id = excluded.run_id, extracted_at = excluded.extracted_at, is_deleted = false, deleted_at = NULL
WHERE excluded.extracted_at >= ghl_tasks.extracted_at;
