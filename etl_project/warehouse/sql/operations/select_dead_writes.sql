-- Writes the sync gave up on (refused, or out of attempts), from both outboxes, newest first.
SELECT 'contacts' AS outbox, platform, operation, person_id, last_error, updated_at
FROM outbox WHERE status = 'dead'
UNION ALL
SELECT 'activities', platform, operation, person_id, last_error, updated_at
FROM activity_outbox WHERE status = 'dead'
ORDER BY updated_at DESC;
