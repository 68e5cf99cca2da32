-- Flow 4 writes still waiting (or in doubt: updates are idempotent) for pairs just planned again: the new plan
-- covers all they still need.
UPDATE activity_outbox SET status = 'superseded', updated_at = $now
WHERE flow = 'highlevel_tasks_to_sendapp' AND operation = 'update_task' AND status IN ('planned', 'sent', 'failed')
  AND source_ref IN (SELECT source_ref FROM considered)
  AND idempotency_key NOT IN (SELECT idempotency_key FROM considered WHERE idempotency_key IS NOT NULL)
RETURNING idempotency_key, platform, person_id, operation;
