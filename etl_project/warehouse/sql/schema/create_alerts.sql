-- Every alert the sync raised for a person (and the failures it decided a person need not see yet), with
-- whether it reached the alert webhook.
CREATE TABLE IF NOT EXISTS alerts (
    alert_key      VARCHAR     PRIMARY KEY,
    kind           VARCHAR     NOT NULL,   -- run_failure | check_failure | recovered
    subject        VARCHAR     NOT NULL,   -- the job or the asset check
    run_id         VARCHAR,
    severity       VARCHAR     NOT NULL,   -- alert | held (transient, retried by the next tick) | info
    text           VARCHAR     NOT NULL,
    delivered      BOOLEAN     NOT NULL,
    delivery_error VARCHAR,
    created_at     TIMESTAMPTZ NOT NULL
);
