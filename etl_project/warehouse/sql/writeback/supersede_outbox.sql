-- Pending rows of this target that the new plan no longer contains: the change they carried was applied (seen in
-- the latest extraction) or replaced by a newer one. They are never sent again.
UPDATE outbox SET status = 'superseded', updated_at = $now
WHERE platform = $platform AND status IN ('planned', 'sent', 'failed')
  AND idempotency_key NOT IN (SELECT idempotency_key FROM planned)
RETURNING idempotency_key, person_id, target_id, operation;
