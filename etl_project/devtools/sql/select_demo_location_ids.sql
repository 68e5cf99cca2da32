-- The demo's isolation check: the HighLevel locations whose contacts landed in this warehouse (one: its own).
SELECT DISTINCT location_id FROM ghl_contacts ORDER BY ALL;
