INSERT INTO target_snapshots
VALUES ($platform, $person_id, $target_id, $fields::JSON, $target_version, $now,
        $written_values::JSON)
ON CONFLICT (platform, person_id) DO UPDATE SET
    target_id = excluded.target_id, fields = excluded.fields,
    written_values = json_merge_patch(coalesce(target_snapshots.written_values, '{}'), excluded.written_values),
    target_version = excluded.target_version, acked_at = excluded.acked_at;
