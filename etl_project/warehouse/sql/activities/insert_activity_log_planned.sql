-- One `sync_log` row per activity write that entered the outbox this run (or would have, in a dry run).
INSERT INTO sync_log
SELECT $run_id, platform, person_id, NULL, operation, []::VARCHAR[], $status, NULL, idempotency_key, $now
FROM planned
WHERE list_contains($entered::VARCHAR[], idempotency_key);
