-- 1 when the file has the schema_state table (a new file has not).
SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_state'
