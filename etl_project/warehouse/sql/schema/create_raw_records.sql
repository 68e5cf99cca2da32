-- Every distinct version of every record ever extracted. Keyed by content hash, so re-landing the same
-- version (a re-run, an overlapping window, a backfill) adds nothing, while a real change adds one row.
CREATE TABLE IF NOT EXISTS raw_records (
    platform      VARCHAR     NOT NULL,
    kind          VARCHAR     NOT NULL,
    record_id     VARCHAR     NOT NULL,
    payload_hash  VARCHAR     NOT NULL,
    parent_id     VARCHAR,
    partition_key VARCHAR,
    run_id        VARCHAR,
    extracted_at  TIMESTAMPTZ NOT NULL,
    payload       JSON        NOT NULL,
    PRIMARY KEY (platform, kind, record_id, payload_hash)
);
