-- New activity writes; a key stored before is not stored again, except one a newer plan had superseded (a task
-- completed, reopened and completed again needs that write after all): it is planned afresh.
INSERT INTO activity_outbox
SELECT idempotency_key, flow, platform, operation, person_id, source_ref, payload::JSON, 'planned', 0, NULL, NULL,
       NULL, $run_id, $now, $now
FROM planned
ON CONFLICT (idempotency_key) DO UPDATE SET
    status = 'planned', attempts = 0, last_error = NULL, run_id = excluded.run_id, updated_at = excluded.updated_at
WHERE activity_outbox.status = 'superseded'
RETURNING idempotency_key, platform, person_id, operation, flow;
