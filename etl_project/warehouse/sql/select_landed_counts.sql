-- Per kind: current records (not deleted), distinct records still in quarantine, raw versions kept.
WITH landed AS (
    SELECT 'contacts' AS kind, count(*) FILTER (WHERE NOT is_deleted) AS n FROM ghl_contacts
    UNION ALL SELECT 'tasks', count(*) FILTER (WHERE NOT is_deleted) FROM ghl_tasks
    UNION ALL SELECT 'notes', count(*) FILTER (WHERE NOT is_deleted) FROM ghl_notes
    UNION ALL SELECT 'appointments', count(*) FILTER (WHERE NOT is_deleted) FROM ghl_appointments
),
held AS (
    SELECT kind, count(DISTINCT record_id) AS n FROM quarantine
    WHERE platform = $platform AND resolved_at IS NULL GROUP BY kind
),
versions AS (
    SELECT kind, count(*) AS n FROM raw_records WHERE platform = $platform GROUP BY kind
)
SELECT l.kind, l.n, COALESCE(h.n, 0), COALESCE(v.n, 0)
FROM landed l LEFT JOIN held h USING (kind) LEFT JOIN versions v USING (kind)
ORDER BY l.kind;
