-- The demo's summary: SendOwl buyers (one per normalised email) and how many of them bought more than once.
SELECT count(*), count(*) FILTER (WHERE completed_orders > 1) FROM sendowl_customers;
