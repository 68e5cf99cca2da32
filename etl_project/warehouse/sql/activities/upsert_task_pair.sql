-- A pair's new merge base (and, after a write, that write): every change bumps the generation.
INSERT INTO task_pairs VALUES ($hl_task, $sa_task, $sa_contact, $title, $due, $done, 0, $hl_written,
                               $hl_written_at, $sa_written, $sa_written_at, $now)
ON CONFLICT (highlevel_task_id) DO UPDATE SET
    title = excluded.title, due = excluded.due, done = excluded.done, generation = task_pairs.generation + 1,
    highlevel_written = coalesce(excluded.highlevel_written, task_pairs.highlevel_written),
    highlevel_written_at = coalesce(excluded.highlevel_written_at, task_pairs.highlevel_written_at),
    sendapp_written = coalesce(excluded.sendapp_written, task_pairs.sendapp_written),
    sendapp_written_at = coalesce(excluded.sendapp_written_at, task_pairs.sendapp_written_at),
    updated_at = excluded.updated_at;
