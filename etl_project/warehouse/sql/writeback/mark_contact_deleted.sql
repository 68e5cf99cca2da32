-- The sync deleted this record on the target (acknowledged): the current state says so before the next extraction.
UPDATE {table} SET is_deleted = true, deleted_at = $now WHERE id = $id;
