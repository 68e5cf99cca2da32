-- The parents whose children were fetched longest ago (never first). {table} comes from the fixed registry.
SELECT CAST(p.id AS VARCHAR)
FROM {table} p
LEFT JOIN child_fetches f ON f.platform = $platform AND f.kind = $kind AND f.parent_id = CAST(p.id AS VARCHAR)
WHERE NOT p.is_deleted
ORDER BY f.fetched_at ASC NULLS FIRST, p.id
LIMIT $limit;
