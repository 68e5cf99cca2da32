-- A child list is fetched whole per parent: a child of a fetched parent that is no longer listed was deleted.
-- {table} is an identifier from the warehouse's fixed table registry, never data.
UPDATE {table} SET is_deleted = true, deleted_at = $extracted_at
WHERE NOT is_deleted
  AND contact_id IN (SELECT parent_id FROM parents)
  AND id NOT IN (SELECT record_id FROM batch)
  AND id NOT IN (SELECT record_id FROM rejected WHERE record_id IS NOT NULL)
RETURNING id;
