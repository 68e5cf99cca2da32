-- HighLevel notes of people who also have a SendApp contact (flow 5).
SELECT n.id, h.person_id, n.body, n.date_added
FROM ghl_notes n
JOIN identity_links h ON h.platform = 'highlevel' AND h.platform_id = n.contact_id
WHERE NOT n.is_deleted AND EXISTS (SELECT 1 FROM identity_links s WHERE s.platform = 'sendapp' AND s.person_id = h.person_id)
ORDER BY n.id;
