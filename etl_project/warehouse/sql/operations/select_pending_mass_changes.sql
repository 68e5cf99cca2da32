-- One target's pending updates (with the fields each changes) and deletes, for the mass-change guard.
SELECT operation, idempotency_key, fields
FROM outbox
WHERE platform = $platform AND status IN ('planned', 'sent', 'failed') AND operation IN ('update', 'delete')
ORDER BY idempotency_key;
