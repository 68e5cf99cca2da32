-- Pending operations for people with neither an email nor a phone: nothing could ever match them again.
SELECT o.person_id
FROM outbox o
LEFT JOIN golden_contacts g ON g.person_id = o.person_id
WHERE o.platform = $platform AND o.status IN ('planned', 'sent', 'failed') AND o.operation <> 'delete'
  AND (g.person_id IS NULL OR (coalesce(g.email, '') = '' AND coalesce(g.phone, '') = ''))
ORDER BY 1
LIMIT 20;
