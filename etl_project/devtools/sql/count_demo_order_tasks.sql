-- Follow-up tasks HighLevel acknowledged for one SendOwl order (flow 3), by the order id.
SELECT count(*)
FROM activity_outbox
WHERE source_ref = ? AND operation = 'create_task' AND status = 'acknowledged';
