-- The demo's isolation check: every landed contact and order id, compared across the locations' warehouses.
SELECT 'ghl_contacts', id FROM ghl_contacts
UNION ALL SELECT 'sendowl_orders', id FROM sendowl_orders
UNION ALL SELECT 'sendapp_contacts', id FROM sendapp_contacts;
