-- When each activity flow was first switched on: people already known then are not "new" (no welcome message).
CREATE TABLE IF NOT EXISTS flow_state (
    flow       VARCHAR PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL
);
