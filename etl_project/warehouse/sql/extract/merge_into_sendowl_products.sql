INSERT INTO sendowl_products
SELECT
    record_id,
    payload::JSON ->> 'name',
    TRY_CAST(payload::JSON ->> 'price' AS DECIMAL(18, 2)),
    payload::JSON ->> 'product_type',
    payload::JSON, payload_hash, $partition_key, $run_id, $extracted_at, false, NULL
FROM batch
ON CONFLICT (id) DO UPDATE SET
    name = excluded.name, price = excluded.price, product_type = excluded.product_type,
    payload = excluded.payload, payload_hash = excluded.payload_hash, partition_key = excluded.partition_key,
    run_id = excluded.run_id, extracted_at = excluded.extracted_at, is_deleted = false, deleted_at = NULL
WHERE excluded.extracted_at >= sendowl_products.extracted_at;
