UPDATE activity_outbox SET status = $status, result_id = coalesce($result_id, result_id), last_error = $error,
       updated_at = $now
WHERE idempotency_key = $key;
