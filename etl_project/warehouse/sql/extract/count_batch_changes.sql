-- {table} is an identifier from the warehouse's fixed table registry, never data.
SELECT
    count(*) FILTER (WHERE c.id IS NULL) AS new_records,
    count(*) FILTER (WHERE c.id IS NOT NULL AND (c.payload_hash <> b.payload_hash OR c.is_deleted)) AS changed
FROM batch b LEFT JOIN {table} c ON c.id = b.record_id;
