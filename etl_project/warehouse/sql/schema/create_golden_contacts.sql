-- One record per person by the merge policy; field_sources says which platform each value came from and when.
CREATE TABLE IF NOT EXISTS golden_contacts (
    person_id     VARCHAR PRIMARY KEY,
    email         VARCHAR,
    phone         VARCHAR,
    first_name    VARCHAR,
    last_name     VARCHAR,
    tags          VARCHAR[],
    platforms     VARCHAR[],
    field_sources JSON,
    computed_at   TIMESTAMPTZ NOT NULL
);
