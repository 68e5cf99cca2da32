INSERT INTO alerts (alert_key, kind, subject, run_id, severity, text, delivered, delivery_error, created_at)
VALUES ($alert_key, $kind, $subject, $run_id, $severity, $text, $delivered, $delivery_error, $now)
ON CONFLICT DO NOTHING;
