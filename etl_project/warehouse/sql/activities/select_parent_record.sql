-- The person's contact on a platform: a live one first (the oldest link wins if a conflict left two), else a
-- linked one that was deleted there (`deleted` tells which; no row: the person was never linked on it).
SELECT l.platform_id, coalesce(c.is_deleted, false) AS deleted
FROM identity_links l
LEFT JOIN {table} c ON c.id = l.platform_id
WHERE l.platform = $platform AND l.person_id = $person
ORDER BY deleted, l.linked_at, l.platform_id
LIMIT 1;
