-- 1 when the file has the schema_state table (files made before it existed, and new files, have not).
SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_state'
