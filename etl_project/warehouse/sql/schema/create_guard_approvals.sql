-- Mass changes a person approved, once per cause: updates of one field under one configuration (the mapping,
-- flows and merge policy it was approved under), or one batch of deletes. A later plan with the same cause
-- passes without asking again; a changed configuration asks again.
CREATE TABLE IF NOT EXISTS guard_approvals (
    platform    VARCHAR     NOT NULL,
    cause       VARCHAR     NOT NULL,
    config      VARCHAR     NOT NULL,
    run_id      VARCHAR,
    message     VARCHAR,
    approved_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, cause, config)
);
