-- The live incremental cursor per (platform, kind): the newest update time a live (non-backfill) run has
-- landed. Only moves forward, and only live runs move it.
CREATE TABLE IF NOT EXISTS extract_cursors (
    platform   VARCHAR     NOT NULL,
    kind       VARCHAR     NOT NULL,
    cursor_at  TIMESTAMPTZ NOT NULL,
    run_id     VARCHAR,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, kind)
);
