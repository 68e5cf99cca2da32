SELECT platform, person_id, fields, written, target_version FROM target_snapshots;
