-- A full listing of the platform did not contain these records: they were deleted there. Only records extracted
-- before the listing began are judged (a record created during it may simply not be listed yet).
UPDATE {table} SET is_deleted = true, deleted_at = $now
WHERE NOT is_deleted AND extracted_at < $started AND id NOT IN (SELECT id FROM seen_ids)
RETURNING id;
