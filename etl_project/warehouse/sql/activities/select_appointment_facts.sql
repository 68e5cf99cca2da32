SELECT a.id, h.person_id, a.title, a.appointment_status, a.start_time
FROM ghl_appointments a
JOIN identity_links h ON h.platform = 'highlevel' AND h.platform_id = a.contact_id
WHERE NOT a.is_deleted AND EXISTS (SELECT 1 FROM identity_links s WHERE s.platform = 'sendapp' AND s.person_id = h.person_id)
ORDER BY a.id;
