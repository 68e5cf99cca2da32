-- SendApp tasks that already are the twin of a HighLevel task (a lost-answer lookup must not adopt them again).
SELECT sendapp_task_id FROM task_pairs
UNION
SELECT result_id FROM activity_outbox
WHERE flow = 'highlevel_tasks_to_sendapp' AND operation = 'create_task' AND status = 'acknowledged'
  AND result_id IS NOT NULL;
