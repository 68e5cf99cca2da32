-- Pending activity writes for one platform: contacts' tags before tasks and notes, oldest plan first.
SELECT idempotency_key, flow, operation, person_id, source_ref, payload, status, attempts
FROM activity_outbox
WHERE platform = $platform AND status IN ('planned', 'sent', 'failed') AND attempts < $max_attempts
ORDER BY planned_at, person_id, operation, idempotency_key;
