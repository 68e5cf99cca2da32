-- (platform, platform_id) → person. Kept across runs: an existing link is the first match rule.
CREATE TABLE IF NOT EXISTS identity_links (
    platform    VARCHAR     NOT NULL,
    platform_id VARCHAR     NOT NULL,
    person_id   VARCHAR     NOT NULL,
    matched_by  VARCHAR     NOT NULL,
    linked_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, platform_id)
);
