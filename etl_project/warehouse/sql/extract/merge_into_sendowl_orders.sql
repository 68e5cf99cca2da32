-- Money arrives as strings ("64.90"): cast to DECIMAL, never to float. An older version never overwrites a newer.
INSERT INTO sendowl_orders
SELECT
    record_id,
    payload::JSON ->> 'state',
    COALESCE(TRY_CAST(payload::JSON ->> 'refunded' AS BOOLEAN), false),
    payload::JSON ->> 'buyer_email',
    payload::JSON ->> 'buyer_name',
    payload::JSON ->> 'business_name',
    TRY_CAST(payload::JSON ->> 'settled_gross' AS DECIMAL(18, 2)),
    payload::JSON ->> 'settled_currency',
    payload::JSON ->> 'tag',
    COALESCE(
        list_filter(
            list_transform(
                COALESCE(CAST(payload::JSON -> '$.cart.cart_items' AS JSON[]), []),
                lambda item: COALESCE(item ->> '$.cart_item.product_id', item ->> '$.cart_item.package_id')
            ),
            lambda x: x IS NOT NULL
        ),
        []
    ),
    TRY_CAST(payload::JSON ->> 'created_at' AS TIMESTAMPTZ),
    TRY_CAST(payload::JSON ->> 'updated_at' AS TIMESTAMPTZ),
    payload::JSON, payload_hash, $partition_key, $run_id, $extracted_at, false, NULL
FROM batch
ON CONFLICT (id) DO UPDATE SET
    state = excluded.state, refunded = excluded.refunded, buyer_email = excluded.buyer_email,
    buyer_name = excluded.buyer_name, business_name = excluded.business_name,
    settled_gross = excluded.settled_gross, settled_currency = excluded.settled_currency, tag = excluded.tag,
    product_ids = excluded.product_ids, created_at = excluded.created_at, updated_at = excluded.updated_at,
    payload = excluded.payload, payload_hash = excluded.payload_hash, partition_key = excluded.partition_key,
    run_id = excluded.run_id, extracted_at = excluded.extracted_at, is_deleted = false, deleted_at = NULL
WHERE excluded.updated_at >= sendowl_orders.updated_at OR sendowl_orders.updated_at IS NULL;
