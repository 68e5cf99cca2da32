-- For each span of `spans` (registered: span, read_from, read_to), the parents whose last update falls in
-- [read_from, read_to): the records whose children a partition fetches. Quarantined parents count too (a bad email
-- does not make their tasks or notes invalid), but only those whose id is a usable id for the platform
-- ($id_pattern): children are fetched by it.
-- {table}, {updated_column} and {payload_updated} come from the warehouse's fixed table registry, never data.
WITH parents AS (
    SELECT CAST(id AS VARCHAR) AS parent_id, {updated_column} AS updated FROM {table} WHERE NOT is_deleted
    UNION ALL
    SELECT record_id, TRY_CAST({payload_updated} AS TIMESTAMPTZ) FROM quarantine
    WHERE platform = $platform AND kind = $kind AND resolved_at IS NULL AND regexp_full_match(record_id, $id_pattern)
)
SELECT DISTINCT s.span, p.parent_id
FROM parents p JOIN spans s ON p.updated >= s.read_from AND p.updated < s.read_to
ORDER BY s.span, p.parent_id;
