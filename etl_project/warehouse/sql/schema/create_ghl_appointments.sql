CREATE TABLE IF NOT EXISTS ghl_appointments (
    id                 VARCHAR PRIMARY KEY,
    contact_id         VARCHAR NOT NULL,
    calendar_id        VARCHAR,
    title              VARCHAR,
    appointment_status VARCHAR,
    assigned_user_id   VARCHAR,
    start_time         TIMESTAMPTZ,
    end_time           TIMESTAMPTZ,
    date_added         TIMESTAMPTZ,
    date_updated       TIMESTAMPTZ,
    payload            JSON NOT NULL,
    payload_hash       VARCHAR NOT NULL,
    partition_key      VARCHAR,
    run_id             VARCHAR,
    extracted_at       TIMESTAMPTZ NOT NULL,
    is_deleted         BOOLEAN NOT NULL DEFAULT false,
    deleted_at         TIMESTAMPTZ
);
