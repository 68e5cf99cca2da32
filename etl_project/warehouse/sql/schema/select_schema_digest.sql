-- The schema digest kept in the file; no row when the file predates schema_state (or is new).
SELECT digest FROM schema_state
