-- Contacts whose last update falls in [read_from, read_to): the parents whose children a partition fetches.
-- Quarantined contacts count too: a bad email does not make their tasks, notes or appointments invalid.
SELECT id FROM ghl_contacts
WHERE NOT is_deleted AND date_updated >= $read_from AND date_updated < $read_to
UNION
SELECT record_id FROM quarantine
WHERE platform = 'highlevel' AND kind = 'contacts' AND resolved_at IS NULL AND record_id IS NOT NULL
  AND TRY_CAST(COALESCE(payload ->> 'dateUpdated', payload ->> 'dateAdded') AS TIMESTAMPTZ) >= $read_from
  AND TRY_CAST(COALESCE(payload ->> 'dateUpdated', payload ->> 'dateAdded') AS TIMESTAMPTZ) < $read_to
ORDER BY 1;
