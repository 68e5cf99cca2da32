-- What each target last acknowledged to the sync, per person: the record's golden-field values right after the
-- last write (canonical JSON), the target's own update time then (to tell an older extraction from a newer one), and,
-- per field the sync itself wrote, the value it wrote and the target's update time after that write (those values
-- are echoes, not a user's edits; a field keeps the entry of the last write that sent it).
CREATE TABLE IF NOT EXISTS target_snapshots (
    platform       VARCHAR     NOT NULL,
    person_id      VARCHAR     NOT NULL,
    target_id      VARCHAR,
    fields         JSON        NOT NULL,
    target_version TIMESTAMPTZ,
    acked_at       TIMESTAMPTZ NOT NULL,
    written_values JSON,       -- {"field": [value written, target update time after that write], ...}
    PRIMARY KEY (platform, person_id)
);
