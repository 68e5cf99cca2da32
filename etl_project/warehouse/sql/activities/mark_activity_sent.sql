UPDATE activity_outbox SET status = 'sent', attempts = attempts + 1, run_id = $run_id, parent_id = $parent_id,
       updated_at = $now
WHERE idempotency_key = $key;
