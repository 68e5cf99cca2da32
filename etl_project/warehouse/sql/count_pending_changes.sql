-- Pending updates and deletes of one target, against how many live records it holds.
SELECT
    (SELECT count(*) FROM outbox WHERE platform = $platform AND status IN ('planned', 'sent', 'failed')
        AND operation = 'update') AS updates,
    (SELECT count(*) FROM outbox WHERE platform = $platform AND status IN ('planned', 'sent', 'failed')
        AND operation = 'delete') AS deletes,
    (SELECT count(*) FROM {table} WHERE NOT is_deleted) AS records;
