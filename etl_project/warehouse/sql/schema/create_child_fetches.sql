-- When each parent's complete child list of a kind was last fetched: drives the rotating sweep that refreshes
-- children of parents that did not change (a new task does not always touch its contact).
CREATE TABLE IF NOT EXISTS child_fetches (
    platform   VARCHAR     NOT NULL,
    kind       VARCHAR     NOT NULL,
    parent_id  VARCHAR     NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, kind, parent_id)
);
