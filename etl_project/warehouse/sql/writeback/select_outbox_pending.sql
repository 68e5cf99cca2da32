-- The rows to send for one target, oldest plan first. A create needs a look-up first when any create for the same
-- person was already sent without an acknowledgement (its response may have been lost).
SELECT o.idempotency_key, o.operation, o.person_id, o.target_id, o.payload, o.expected, o.fields, o.attempts,
       EXISTS (SELECT 1 FROM outbox p
               WHERE p.platform = o.platform AND p.person_id = o.person_id AND p.operation = 'create'
                 AND p.attempts > 0 AND p.status <> 'acknowledged') AS needs_lookup,
       (SELECT min(p.first_sent_at) FROM outbox p
        WHERE p.platform = o.platform AND p.person_id = o.person_id AND p.operation = 'create') AS first_sent_at
FROM outbox o
WHERE o.platform = $platform AND o.status IN ('planned', 'sent', 'failed') AND o.attempts < $max_attempts
ORDER BY o.planned_at, o.person_id, o.idempotency_key;
