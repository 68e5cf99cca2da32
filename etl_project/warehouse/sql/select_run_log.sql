SELECT operation, status, person_id, target_id, fields_changed, error
FROM sync_log
WHERE run_id = $run_id AND platform = $platform
ORDER BY logged_at, person_id;
