-- A warehouse table's columns and types, for the catalog (Dagster's column schema).
SELECT column_name, data_type, is_nullable = 'YES' AS nullable
FROM information_schema.columns
WHERE table_name = $table AND table_schema = 'main'
ORDER BY ordinal_position;
