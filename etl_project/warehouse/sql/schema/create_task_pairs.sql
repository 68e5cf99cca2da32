-- Flow 4: each HighLevel task and its SendApp twin, with the values both sides last agreed on (the merge base)
-- and the sync's latest write to each side, which stands in for that side until it is extracted again.
CREATE TABLE IF NOT EXISTS task_pairs (
    highlevel_task_id    VARCHAR PRIMARY KEY,
    sendapp_task_id      VARCHAR NOT NULL,
    sendapp_contact_id   VARCHAR NOT NULL,
    title                VARCHAR,
    due                  VARCHAR,     -- ISO 8601, UTC
    done                 BOOLEAN NOT NULL,
    generation           INTEGER NOT NULL DEFAULT 0,
    highlevel_written    JSON,
    highlevel_written_at TIMESTAMPTZ,
    sendapp_written      JSON,
    sendapp_written_at   TIMESTAMPTZ,
    updated_at           TIMESTAMPTZ NOT NULL
);
