-- Parents whose last update falls in [read_from, read_to): the records whose children a partition fetches.
-- Quarantined parents count too (a bad email does not make their tasks or notes invalid), but only those whose id
-- is a usable id for the platform ($id_pattern): children are fetched by it.
-- {table}, {updated_column} and {payload_updated} come from the warehouse's fixed table registry, never data.
SELECT CAST(id AS VARCHAR) FROM {table}
WHERE NOT is_deleted AND {updated_column} >= $read_from AND {updated_column} < $read_to
UNION
SELECT record_id FROM quarantine
WHERE platform = $platform AND kind = $kind AND resolved_at IS NULL AND regexp_full_match(record_id, $id_pattern)
  AND TRY_CAST({payload_updated} AS TIMESTAMPTZ) >= $read_from
  AND TRY_CAST({payload_updated} AS TIMESTAMPTZ) < $read_to
ORDER BY 1;
