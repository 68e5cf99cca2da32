UPDATE outbox SET status = $status, target_id = coalesce($target_id, target_id), last_error = $error,
       updated_at = $now
WHERE idempotency_key = $key;
