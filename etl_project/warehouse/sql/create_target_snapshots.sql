-- What each target last acknowledged to the sync, per person: the record's golden-field values right after the
-- write (canonical JSON), the target's own update time then (to tell an older extraction from a newer one), and
-- which fields the sync itself wrote (those are not a user's edits).
CREATE TABLE IF NOT EXISTS target_snapshots (
    platform       VARCHAR     NOT NULL,
    person_id      VARCHAR     NOT NULL,
    target_id      VARCHAR,
    fields         JSON        NOT NULL,
    written        VARCHAR[]   NOT NULL,
    target_version TIMESTAMPTZ,
    acked_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, person_id)
);
