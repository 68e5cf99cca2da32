-- For one target platform: each linked person's record id, the current payload, and the acknowledged snapshot.
SELECT l.person_id, l.platform_id, c.payload, s.fields
FROM identity_links l
LEFT JOIN {table} c ON c.id = l.platform_id AND NOT c.is_deleted
LEFT JOIN target_snapshots s ON s.platform = l.platform AND s.person_id = l.person_id
WHERE l.platform = $platform
ORDER BY l.person_id;
