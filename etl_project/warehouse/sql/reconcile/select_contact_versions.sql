-- Every kept version of every current contact-like record: HighLevel and SendApp contacts, SendOwl orders (whose
-- buyers are people). The update time is read from each version's own payload. A SendOwl order states who bought it
-- at checkout: later changes to the order (its tag, a refund) are not edits of the buyer, so its time is the sale's.
-- A contact's update time is the registry's (`warehouse/tables.py`, filled in by `derived.py`): one rule per platform.
SELECT r.platform, r.record_id, r.payload,
       TRY_CAST(CASE WHEN r.platform = 'sendowl'
                     THEN COALESCE(r.payload -> 'cart' ->> 'completed_checkout_at', r.payload ->> 'created_at')
                     WHEN r.platform = 'highlevel' THEN {highlevel_updated}
                     ELSE {sendapp_updated}
                END AS TIMESTAMPTZ) AS updated_at
FROM raw_records r
WHERE (r.platform = 'highlevel' AND r.kind = 'contacts'
       AND r.record_id IN (SELECT id FROM ghl_contacts WHERE NOT is_deleted))
   OR (r.platform = 'sendapp' AND r.kind = 'contacts'
       AND r.record_id IN (SELECT id FROM sendapp_contacts WHERE NOT is_deleted))
   OR (r.platform = 'sendowl' AND r.kind = 'orders'
       AND r.record_id IN (SELECT id FROM sendowl_orders WHERE NOT is_deleted))
ORDER BY r.platform, r.record_id, updated_at, r.extracted_at;
