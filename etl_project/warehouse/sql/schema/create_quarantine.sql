-- Records that failed validation, with the reason; nothing invalid is dropped silently.
CREATE TABLE IF NOT EXISTS quarantine (
    platform       VARCHAR     NOT NULL,
    kind           VARCHAR     NOT NULL,
    payload_hash   VARCHAR     NOT NULL,
    record_id      VARCHAR,
    reason         VARCHAR     NOT NULL,
    payload        JSON        NOT NULL,
    partition_key  VARCHAR,
    run_id         VARCHAR,
    quarantined_at TIMESTAMPTZ NOT NULL,
    resolved_at    TIMESTAMPTZ,
    PRIMARY KEY (platform, kind, payload_hash)
);
