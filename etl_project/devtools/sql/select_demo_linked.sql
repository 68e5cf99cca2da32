-- The demo's webhook example: a HighLevel contact whose person is also on SendApp (the last such pair, so not the
-- flow-2 example's).
SELECT h.platform_id, s.platform_id
FROM identity_links s
JOIN identity_links h ON h.person_id = s.person_id AND h.platform = 'highlevel'
JOIN sendapp_contacts c ON c.id = s.platform_id AND NOT c.is_deleted
WHERE s.platform = 'sendapp'
ORDER BY s.platform_id DESC
LIMIT 1;
