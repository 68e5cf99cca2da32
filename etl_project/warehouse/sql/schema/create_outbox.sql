-- Every planned write, stored before any call, keyed by a deterministic idempotency key: planning the same
-- change twice stores it once. Status: planned → sent → acknowledged | failed (retried later) | dead (gave up);
-- superseded when a newer plan no longer needs it. `expected` is the record's values once the write is applied.
CREATE TABLE IF NOT EXISTS outbox (
    idempotency_key VARCHAR PRIMARY KEY,
    platform        VARCHAR     NOT NULL,
    operation       VARCHAR     NOT NULL,
    person_id       VARCHAR     NOT NULL,
    target_id       VARCHAR,
    fields          JSON        NOT NULL,
    payload         JSON        NOT NULL,
    expected        JSON        NOT NULL,
    status          VARCHAR     NOT NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0,
    last_error      VARCHAR,
    run_id          VARCHAR,
    planned_at      TIMESTAMPTZ NOT NULL,
    first_sent_at   TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL
);
