-- Recorded before the call: a row left 'sent' by a crash is known to be in doubt.
UPDATE outbox SET status = 'sent', attempts = attempts + 1, run_id = $run_id,
       first_sent_at = coalesce(first_sent_at, $now), updated_at = $now
WHERE idempotency_key = $key;
