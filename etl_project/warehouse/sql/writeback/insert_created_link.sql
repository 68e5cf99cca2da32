-- A record the sync created (or found after a lost response) belongs to the person it was created for.
INSERT INTO identity_links VALUES ($platform, $platform_id, $person_id, 'created', $now)
ON CONFLICT (platform, platform_id) DO NOTHING;
