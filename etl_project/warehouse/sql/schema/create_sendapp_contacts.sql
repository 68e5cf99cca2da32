CREATE TABLE IF NOT EXISTS sendapp_contacts (
    id            VARCHAR PRIMARY KEY,
    first_name    VARCHAR,
    last_name     VARCHAR,
    number        VARCHAR,
    email         VARCHAR,
    tags          VARCHAR[],
    custom_fields JSON,
    created_at    TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ,
    payload       JSON NOT NULL,
    payload_hash  VARCHAR NOT NULL,
    partition_key VARCHAR,
    run_id        VARCHAR,
    extracted_at  TIMESTAMPTZ NOT NULL,
    is_deleted    BOOLEAN NOT NULL DEFAULT false,
    deleted_at    TIMESTAMPTZ
);
