-- A digest of every create_* statement the file was last brought up to date with (see Warehouse): a current file
-- skips the DDL.
CREATE TABLE IF NOT EXISTS schema_state (
    digest VARCHAR NOT NULL
);
