-- People first linked after the welcome flow was switched on, with a phone, and not on do-not-disturb in HighLevel.
SELECT g.person_id, g.phone
FROM golden_contacts g
WHERE g.phone IS NOT NULL
  AND (SELECT min(l.linked_at) FROM identity_links l WHERE l.person_id = g.person_id) > $started_at
  AND NOT EXISTS (
      SELECT 1 FROM identity_links h JOIN ghl_contacts c ON c.id = h.platform_id
      WHERE h.platform = 'highlevel' AND h.person_id = g.person_id AND coalesce(c.dnd, false))
ORDER BY g.person_id;
