-- Run after delete_sendowl_customers.sql in the same transaction: the table is rebuilt whole from current
-- orders, so it is deterministic and a re-run changes nothing. Spend counts paid orders that were not refunded,
-- and buyers are keyed by lower-cased, trimmed email.
INSERT INTO sendowl_customers
WITH o AS (
    SELECT *, lower(trim(buyer_email)) AS email_key,
           state IN ('complete', 'subscription_active', 'subscription_complete', 'subscription_cancelling',
                     'subscription_cancelled') AS paid
    FROM sendowl_orders
    WHERE NOT is_deleted AND buyer_email IS NOT NULL AND trim(buyer_email) <> ''
),
bought AS (
    SELECT o.email_key, list_sort(list_distinct(list(p.name))) AS products
    FROM o, unnest(o.product_ids) AS u(product_id)
    JOIN sendowl_products p ON p.id = u.product_id
    WHERE o.paid AND NOT o.refunded
    GROUP BY o.email_key
)
SELECT
    o.email_key,
    arg_max(o.buyer_name, o.created_at),
    min(o.created_at),
    max(o.created_at),
    count(*),
    count(*) FILTER (WHERE o.paid AND NOT o.refunded),
    COALESCE(sum(o.settled_gross) FILTER (WHERE o.paid AND NOT o.refunded), 0),
    list_sort(list_distinct(list(o.settled_currency) FILTER (WHERE o.settled_currency IS NOT NULL))),
    COALESCE(any_value(b.products), []),
    bool_or(o.refunded),
    bool_or(o.state = 'chargeback'),
    $rebuilt_at
FROM o LEFT JOIN bought b USING (email_key)
GROUP BY o.email_key;
