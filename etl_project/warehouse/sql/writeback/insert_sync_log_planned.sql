INSERT INTO sync_log
SELECT $run_id, platform, person_id, target_id, operation, from_json(fields_changed, '["VARCHAR"]'), $status, NULL,
       idempotency_key, $now
FROM planned
WHERE $dry_run OR list_contains($entered::VARCHAR[], idempotency_key);
