CREATE TABLE IF NOT EXISTS ghl_tasks (
    id            VARCHAR PRIMARY KEY,
    contact_id    VARCHAR NOT NULL,
    title         VARCHAR,
    body          VARCHAR,
    assigned_to   VARCHAR,
    due_date      TIMESTAMPTZ,
    completed     BOOLEAN,
    payload       JSON NOT NULL,
    payload_hash  VARCHAR NOT NULL,
    partition_key VARCHAR,
    run_id        VARCHAR,
    extracted_at  TIMESTAMPTZ NOT NULL,
    is_deleted    BOOLEAN NOT NULL DEFAULT false,
    deleted_at    TIMESTAMPTZ
);
