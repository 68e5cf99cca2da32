SELECT p.sendapp_task_id AS sa_task, p.sendapp_contact_id AS sa_contact, p.title, p.due, p.done,
       p.highlevel_written AS hl_written, p.highlevel_written_at AS hl_written_at,
       p.sendapp_written AS sa_written, p.sendapp_written_at AS sa_written_at,
       t.extracted_at AS hl_extracted, st.extracted_at AS sa_extracted
FROM task_pairs p
LEFT JOIN ghl_tasks t ON t.id = p.highlevel_task_id
LEFT JOIN sendapp_tasks st ON st.id = p.sendapp_task_id
WHERE p.highlevel_task_id = $hl_task;
