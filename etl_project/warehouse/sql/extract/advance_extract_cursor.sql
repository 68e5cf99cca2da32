-- Forward only: an older value (a slow run finishing late) never moves the cursor back.
INSERT INTO extract_cursors VALUES ($platform, $kind, $cursor_at, $run_id, $updated_at)
ON CONFLICT (platform, kind) DO UPDATE SET
    cursor_at = excluded.cursor_at, run_id = excluded.run_id, updated_at = excluded.updated_at
WHERE excluded.cursor_at > extract_cursors.cursor_at;
