-- The demo's summary: every planned and executed operation, per platform, operation and status.
SELECT platform, operation, status, count(*) FROM sync_log GROUP BY ALL ORDER BY ALL;
