-- One row per operation event: what the sync planned or did, to which record, and why it failed if it did.
CREATE TABLE IF NOT EXISTS sync_log (
    run_id          VARCHAR     NOT NULL,
    platform        VARCHAR     NOT NULL,
    person_id       VARCHAR     NOT NULL,
    target_id       VARCHAR,
    operation       VARCHAR     NOT NULL,
    fields_changed  VARCHAR[],
    status          VARCHAR     NOT NULL,
    error           VARCHAR,
    idempotency_key VARCHAR     NOT NULL,
    logged_at       TIMESTAMPTZ NOT NULL
);
