-- Activity writes of flows 3, 5 and 6 (tags, tasks, notes, messages, order tags), keyed by their source event so
-- each is stored once, ever. Status: planned → sent → acknowledged | failed | dead | skipped (the contact was
-- deleted on that platform) | unknown (a message whose
-- answer was lost: never re-sent, since a second message is worse than a missing one).
CREATE TABLE IF NOT EXISTS activity_outbox (
    idempotency_key VARCHAR PRIMARY KEY,
    flow            VARCHAR     NOT NULL,
    platform        VARCHAR     NOT NULL,
    operation       VARCHAR     NOT NULL,
    person_id       VARCHAR     NOT NULL,
    source_ref      VARCHAR     NOT NULL,
    payload         JSON        NOT NULL,
    status          VARCHAR     NOT NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0,
    parent_id       VARCHAR,
    result_id       VARCHAR,
    last_error      VARCHAR,
    run_id          VARCHAR,
    planned_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
