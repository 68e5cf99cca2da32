INSERT INTO activity_outbox
SELECT idempotency_key, flow, platform, operation, person_id, source_ref, payload::JSON, 'planned', 0, NULL, NULL,
       NULL, $run_id, $now, $now
FROM planned
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING idempotency_key, platform, person_id, operation, flow;
