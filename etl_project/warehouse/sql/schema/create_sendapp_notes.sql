CREATE TABLE IF NOT EXISTS sendapp_notes (
    id            VARCHAR PRIMARY KEY,
    contact_id    VARCHAR NOT NULL,
    body          VARCHAR,
    created_at    TIMESTAMPTZ,
    payload       JSON NOT NULL,
    payload_hash  VARCHAR NOT NULL,
    partition_key VARCHAR,
    run_id        VARCHAR,
    extracted_at  TIMESTAMPTZ NOT NULL,
    is_deleted    BOOLEAN NOT NULL DEFAULT false,
    deleted_at    TIMESTAMPTZ
);
