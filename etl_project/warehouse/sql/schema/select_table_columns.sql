-- A warehouse table's columns and types, for the catalog (Dagster's column schema).
SELECT column_name, data_type, is_nullable = 'YES' AS nullable
FROM information_schema.columns
WHERE table_name = $table AND table_schema = 'main' AND table_catalog = current_database()
ORDER BY ordinal_position;
