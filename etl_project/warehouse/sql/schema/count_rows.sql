-- {table} is an identifier from the warehouse's fixed table registry or schema files, never data.
SELECT count(*) FROM {table};
