-- {table} is an identifier from the warehouse's fixed table registry, never data.
SELECT count(*) FROM {table} WHERE NOT is_deleted;
