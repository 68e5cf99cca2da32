-- Every kept version of every current contact-like record: HighLevel and SendApp contacts, SendOwl orders (whose
-- buyers are people). The update time is read from each version's own payload.
SELECT r.platform, r.record_id, r.payload,
       TRY_CAST(COALESCE(r.payload ->> 'dateUpdated', r.payload ->> 'updated_at', r.payload ->> 'dateAdded')
                AS TIMESTAMPTZ) AS updated_at
FROM raw_records r
WHERE (r.platform = 'highlevel' AND r.kind = 'contacts'
       AND r.record_id IN (SELECT id FROM ghl_contacts WHERE NOT is_deleted))
   OR (r.platform = 'sendapp' AND r.kind = 'contacts'
       AND r.record_id IN (SELECT id FROM sendapp_contacts WHERE NOT is_deleted))
   OR (r.platform = 'sendowl' AND r.kind = 'orders'
       AND r.record_id IN (SELECT id FROM sendowl_orders WHERE NOT is_deleted))
ORDER BY r.platform, r.record_id, updated_at;
