INSERT INTO guard_approvals (platform, cause, config, run_id, message, approved_at)
VALUES ($platform, $cause, $config, $run_id, $message, $now)
ON CONFLICT DO NOTHING;
