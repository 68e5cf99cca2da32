INSERT INTO sync_log
SELECT $run_id, platform, person_id, target_id, operation, from_json(fields_changed, '["VARCHAR"]'), $status, NULL,
       idempotency_key, $now
FROM planned;
