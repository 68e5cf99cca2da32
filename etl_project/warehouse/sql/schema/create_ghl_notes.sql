CREATE TABLE IF NOT EXISTS ghl_notes (
    id            VARCHAR PRIMARY KEY,
    contact_id    VARCHAR NOT NULL,
    body          VARCHAR,
    user_id       VARCHAR,
    date_added    TIMESTAMPTZ,
    payload       JSON NOT NULL,
    payload_hash  VARCHAR NOT NULL,
    partition_key VARCHAR,
    run_id        VARCHAR,
    extracted_at  TIMESTAMPTZ NOT NULL,
    is_deleted    BOOLEAN NOT NULL DEFAULT false,
    deleted_at    TIMESTAMPTZ
);
