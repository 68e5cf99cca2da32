-- The demo completes one open HighLevel task that has a SendApp twin (flow 4 then completes the twin).
SELECT t.contact_id, t.id, p.sendapp_contact_id, p.sendapp_task_id
FROM task_pairs p
JOIN ghl_tasks t ON t.id = p.highlevel_task_id AND NOT t.is_deleted AND NOT coalesce(t.completed, false)
ORDER BY t.id
LIMIT 1;
