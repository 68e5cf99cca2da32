-- A record that now validates closes its earlier quarantine entries.
UPDATE quarantine SET resolved_at = $extracted_at
WHERE platform = $platform AND kind = $kind AND resolved_at IS NULL
  AND record_id IN (SELECT record_id FROM batch);
