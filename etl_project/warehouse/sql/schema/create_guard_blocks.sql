-- Each approval id the guard has asked for, with the causes it stands for: an approval launched after the plan
-- moved on (an hour later, a few more records changed) still approves what the person was shown.
CREATE TABLE IF NOT EXISTS guard_blocks (
    approval   VARCHAR     PRIMARY KEY,
    platform   VARCHAR     NOT NULL,
    config     VARCHAR     NOT NULL,
    causes     VARCHAR[]   NOT NULL,
    message    VARCHAR,
    blocked_at TIMESTAMPTZ NOT NULL
);
