-- Planned operations enter once (the key is deterministic); the ones already stored are left as they are.
INSERT INTO outbox
SELECT idempotency_key, platform, operation, person_id, target_id, fields::JSON, payload::JSON, expected::JSON,
       'planned', 0, NULL, $run_id, $now, NULL, $now
FROM planned
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING idempotency_key;
