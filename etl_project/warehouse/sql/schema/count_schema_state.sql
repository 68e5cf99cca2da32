-- 1 when the file has the schema_state table (a new file has not). Only this connection's database: the process's
-- DuckDB instance may have other warehouse files attached (warehouse/connections.py).
SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_state' AND database_name = current_database()
