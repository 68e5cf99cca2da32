SELECT p.sendapp_task_id, p.sendapp_contact_id, p.title, p.due, p.done, p.highlevel_written,
       p.highlevel_written_at, p.sendapp_written, p.sendapp_written_at, t.extracted_at, st.extracted_at
FROM task_pairs p
LEFT JOIN ghl_tasks t ON t.id = p.highlevel_task_id
LEFT JOIN sendapp_tasks st ON st.id = p.sendapp_task_id
WHERE p.highlevel_task_id = $hl_task;
