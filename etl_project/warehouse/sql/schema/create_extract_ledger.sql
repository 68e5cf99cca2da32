-- One row per (platform, kind, partition): the last completed extraction of that window and what it found.
CREATE TABLE IF NOT EXISTS extract_ledger (
    platform      VARCHAR     NOT NULL,
    kind          VARCHAR     NOT NULL,
    partition_key VARCHAR     NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL,
    window_end    TIMESTAMPTZ NOT NULL,
    read_from     TIMESTAMPTZ NOT NULL,
    read_to       TIMESTAMPTZ NOT NULL,
    run_id        VARCHAR,
    is_backfill   BOOLEAN     NOT NULL,
    records       INTEGER     NOT NULL,
    new_records   INTEGER     NOT NULL,
    changed       INTEGER     NOT NULL,
    quarantined   INTEGER     NOT NULL,
    requests      INTEGER     NOT NULL,
    finished_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, kind, partition_key)
);
