-- People who bought something (a paid or free order, or an active subscription): flow 3 needs them in HighLevel.
SELECT DISTINCT l.person_id
FROM identity_links l
JOIN sendowl_orders o ON lower(trim(o.buyer_email)) = l.platform_id AND NOT o.is_deleted
WHERE l.platform = 'sendowl' AND list_contains($states, o.state)
ORDER BY 1;
