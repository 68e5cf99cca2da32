DELETE FROM target_snapshots WHERE platform = $platform AND person_id = $person;
