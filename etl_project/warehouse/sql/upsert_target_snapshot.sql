INSERT INTO target_snapshots
VALUES ($platform, $person_id, $target_id, $fields::JSON, $written::VARCHAR[], $target_version, $now)
ON CONFLICT (platform, person_id) DO UPDATE SET
    target_id = excluded.target_id, fields = excluded.fields,
    written = list_distinct(list_concat(target_snapshots.written, excluded.written)),
    target_version = excluded.target_version, acked_at = excluded.acked_at;
