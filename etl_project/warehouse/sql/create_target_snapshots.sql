-- What each target last acknowledged to the sync, per person and golden field (canonical JSON values).
CREATE TABLE IF NOT EXISTS target_snapshots (
    platform   VARCHAR     NOT NULL,
    person_id  VARCHAR     NOT NULL,
    fields     JSON        NOT NULL,
    acked_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, person_id)
);
