-- HighLevel tasks of people who are also on SendApp, with their SendApp twin (if the sync made one), the pair's
-- merge base and the sync's latest writes. HighLevel tasks carry no time: a version's change time is when it was
-- first extracted.
SELECT t.id, h.person_id, t.contact_id, t.title, t.due_date, coalesce(t.completed, false), t.extracted_at,
       (SELECT min(r.extracted_at) FROM raw_records r
        WHERE r.platform = 'highlevel' AND r.kind = 'tasks' AND r.record_id = t.id
          AND r.payload_hash = t.payload_hash) AS highlevel_changed_at,
       coalesce(p.sendapp_task_id, a.result_id), coalesce(p.sendapp_contact_id, a.parent_id),
       st.id IS NOT NULL, st.title, st.due_at, st.status = 'done', st.updated_at, st.extracted_at,
       p.highlevel_task_id IS NOT NULL, p.title, p.due, p.done, coalesce(p.generation, 0),
       p.highlevel_written, p.highlevel_written_at, p.sendapp_written, p.sendapp_written_at
FROM ghl_tasks t
JOIN identity_links h ON h.platform = 'highlevel' AND h.platform_id = t.contact_id
LEFT JOIN task_pairs p ON p.highlevel_task_id = t.id
LEFT JOIN activity_outbox a
       ON a.flow = 'highlevel_tasks_to_sendapp' AND a.operation = 'create_task' AND a.source_ref = t.id
      AND a.status = 'acknowledged'
LEFT JOIN sendapp_tasks st ON st.id = coalesce(p.sendapp_task_id, a.result_id) AND NOT st.is_deleted
WHERE NOT t.is_deleted
  AND EXISTS (SELECT 1 FROM identity_links s WHERE s.platform = 'sendapp' AND s.person_id = h.person_id)
ORDER BY t.id;
