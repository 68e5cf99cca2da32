-- Every current SendOwl order with its buyer's person and HighLevel contact (if linked).
SELECT o.id, l.person_id, o.state, coalesce(o.refunded, false), o.product_ids, o.settled_gross, o.settled_currency,
       o.created_at, o.tag,
       (SELECT h.platform_id FROM identity_links h LEFT JOIN ghl_contacts c ON c.id = h.platform_id
        WHERE h.platform = 'highlevel' AND h.person_id = l.person_id AND NOT coalesce(c.is_deleted, false)
        ORDER BY h.linked_at, h.platform_id LIMIT 1) AS highlevel_id
FROM sendowl_orders o
JOIN identity_links l ON l.platform = 'sendowl' AND l.platform_id = lower(trim(o.buyer_email))
WHERE NOT o.is_deleted
ORDER BY o.id;
