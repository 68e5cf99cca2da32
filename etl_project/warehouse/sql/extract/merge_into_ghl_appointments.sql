INSERT INTO ghl_appointments
SELECT
    record_id, parent_id,
    payload::JSON ->> 'calendarId',
    payload::JSON ->> 'title',
    payload::JSON ->> 'appointmentStatus',
    payload::JSON ->> 'assignedUserId',
    TRY_CAST(payload::JSON ->> 'startTime' AS TIMESTAMPTZ),
    TRY_CAST(payload::JSON ->> 'endTime' AS TIMESTAMPTZ),
    TRY_CAST(payload::JSON ->> 'dateAdded' AS TIMESTAMPTZ),
    TRY_CAST(payload::JSON ->> 'dateUpdated' AS TIMESTAMPTZ),
    payload::JSON, payload_hash, $partition_key, $run_id, $extracted_at, false, NULL
FROM batch
ON CONFLICT (id) DO UPDATE SET
    contact_id = excluded.contact_id, calendar_id = excluded.calendar_id, title = excluded.title,
    appointment_status = excluded.appointment_status, assigned_user_id = excluded.assigned_user_id,
    start_time = excluded.start_time, end_time = excluded.end_time, date_added = excluded.date_added,
    date_updated = excluded.date_updated, payload = excluded.payload, payload_hash = excluded.payload_hash,
    partition_key = excluded.partition_key, run_id = excluded.run_id, extracted_at = excluded.extracted_at,
    is_deleted = false, deleted_at = NULL
WHERE excluded.extracted_at >= ghl_appointments.extracted_at;
