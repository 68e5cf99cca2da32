CREATE TABLE IF NOT EXISTS sendowl_products (
    id            VARCHAR PRIMARY KEY,
    name          VARCHAR,
    price         DECIMAL(18, 2),
    product_type  VARCHAR,
    payload       JSON NOT NULL,
    payload_hash  VARCHAR NOT NULL,
    partition_key VARCHAR,
    run_id        VARCHAR,
    extracted_at  TIMESTAMPTZ NOT NULL,
    is_deleted    BOOLEAN NOT NULL DEFAULT false,
    deleted_at    TIMESTAMPTZ
);
