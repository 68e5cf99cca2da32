INSERT INTO sync_log VALUES ($run_id, $platform, $person_id, $target_id, $operation, $fields_changed::VARCHAR[],
                             $status, $error, $key, $now);
