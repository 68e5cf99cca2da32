-- The demo's per-location table: acknowledged writes per flow. Contact writes (the outbox) by the platform they
-- went to: SendApp is flow 1, HighLevel flows 2 and 3 (a new buyer's contact); activity writes name their flow.
SELECT CASE platform WHEN 'sendapp' THEN 'contacts_to_sendapp' ELSE 'contacts_to_highlevel' END, count(*)
FROM outbox WHERE status = 'acknowledged' GROUP BY ALL
UNION ALL
SELECT flow, count(*) FROM activity_outbox WHERE status = 'acknowledged' GROUP BY ALL;
