SELECT platform, person_id, written_values FROM target_snapshots;
