-- One row per normalised buyer email (SendOwl has no customer resource: buyers live on orders).
CREATE TABLE IF NOT EXISTS sendowl_customers (
    email            VARCHAR PRIMARY KEY,
    buyer_name       VARCHAR,
    first_order_at   TIMESTAMPTZ,
    last_order_at    TIMESTAMPTZ,
    orders           INTEGER,
    completed_orders INTEGER,
    total_spent      DECIMAL(18, 2),
    currencies       VARCHAR[],
    products         VARCHAR[],
    refunded         BOOLEAN,
    charged_back     BOOLEAN,
    rebuilt_at       TIMESTAMPTZ
);
