-- HighLevel tasks of people who are also on SendApp, with the SendApp task the sync made for each (if any).
SELECT t.id, h.person_id, t.contact_id, t.title, t.due_date, coalesce(t.completed, false),
       a.result_id, st.id IS NOT NULL, st.contact_id, st.title, st.due_at, st.status
FROM ghl_tasks t
JOIN identity_links h ON h.platform = 'highlevel' AND h.platform_id = t.contact_id
LEFT JOIN activity_outbox a
       ON a.flow = 'highlevel_tasks_to_sendapp' AND a.operation = 'create_task' AND a.source_ref = t.id
      AND a.status = 'acknowledged'
LEFT JOIN sendapp_tasks st ON st.id = a.result_id AND NOT st.is_deleted
WHERE NOT t.is_deleted
  AND EXISTS (SELECT 1 FROM identity_links s WHERE s.platform = 'sendapp' AND s.person_id = h.person_id)
ORDER BY t.id;
