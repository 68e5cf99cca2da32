-- The demo's flow-2 example: a SendApp contact whose person is also on HighLevel.
SELECT s.platform_id
FROM identity_links s
JOIN identity_links h ON h.person_id = s.person_id AND h.platform = 'highlevel'
JOIN sendapp_contacts c ON c.id = s.platform_id AND NOT c.is_deleted
WHERE s.platform = 'sendapp'
ORDER BY s.platform_id
LIMIT 1;
