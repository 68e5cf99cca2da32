-- Ambiguous matches of the latest reconciliation: logged for a person to resolve, never merged blindly.
CREATE TABLE IF NOT EXISTS identity_conflicts (
    platform    VARCHAR     NOT NULL,
    platform_id VARCHAR     NOT NULL,
    reason      VARCHAR     NOT NULL,
    candidates  VARCHAR[],
    detected_at TIMESTAMPTZ NOT NULL
);
