-- HighLevel tasks of people who are also on SendApp, with their SendApp twin (if the sync made one: acknowledging its
-- create records the pair in the same transaction), the pair's merge base and the sync's latest writes. HighLevel
-- tasks carry no time: a version's change time is when it was first extracted.
SELECT t.id AS task_id, h.person_id, t.contact_id, t.title, t.due_date AS due, coalesce(t.completed, false) AS done,
       t.extracted_at AS hl_extracted,
       (SELECT min(r.extracted_at) FROM raw_records r
        WHERE r.platform = 'highlevel' AND r.kind = 'tasks' AND r.record_id = t.id
          AND r.payload_hash = t.payload_hash) AS hl_changed,
       p.sendapp_task_id AS twin, p.sendapp_contact_id AS twin_contact,
       st.id IS NOT NULL AS twin_seen, st.title AS sa_title, st.due_at AS sa_due, st.status = 'done' AS sa_done,
       st.updated_at AS sa_updated, st.extracted_at AS sa_extracted,
       p.highlevel_task_id IS NOT NULL AS paired, p.title AS base_title, p.due AS base_due, p.done AS base_done,
       coalesce(p.generation, 0) AS generation,
       p.highlevel_written AS hl_written, p.highlevel_written_at AS hl_written_at,
       p.sendapp_written AS sa_written, p.sendapp_written_at AS sa_written_at
FROM ghl_tasks t
JOIN identity_links h ON h.platform = 'highlevel' AND h.platform_id = t.contact_id
LEFT JOIN task_pairs p ON p.highlevel_task_id = t.id
LEFT JOIN sendapp_tasks st ON st.id = p.sendapp_task_id AND NOT st.is_deleted
WHERE NOT t.is_deleted
  AND EXISTS (SELECT 1 FROM identity_links s WHERE s.platform = 'sendapp' AND s.person_id = h.person_id)
ORDER BY t.id;
