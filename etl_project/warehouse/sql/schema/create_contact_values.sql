-- The latest normalised golden-field values of every live contact-like record, with its person and update time:
-- what planning compares the golden records with (rebuilt by each reconciliation).
CREATE TABLE IF NOT EXISTS contact_values (
    platform    VARCHAR     NOT NULL,
    platform_id VARCHAR     NOT NULL,
    person_id   VARCHAR     NOT NULL,
    email       VARCHAR,
    phone       VARCHAR,
    first_name  VARCHAR,
    last_name   VARCHAR,
    tags        VARCHAR[],
    version     TIMESTAMPTZ,
    PRIMARY KEY (platform, platform_id)
);
