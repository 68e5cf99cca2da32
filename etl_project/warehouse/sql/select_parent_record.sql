-- The person's live contact on a platform (the oldest link wins if a conflict left two).
SELECT l.platform_id
FROM identity_links l
LEFT JOIN {table} c ON c.id = l.platform_id
WHERE l.platform = $platform AND l.person_id = $person AND NOT coalesce(c.is_deleted, false)
ORDER BY l.linked_at, l.platform_id
LIMIT 1;
