DELETE FROM schema_state;
INSERT INTO schema_state VALUES ($digest);
