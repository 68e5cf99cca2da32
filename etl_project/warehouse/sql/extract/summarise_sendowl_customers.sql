SELECT count(*), count(*) FILTER (WHERE completed_orders > 1), count(*) FILTER (WHERE refunded)
FROM sendowl_customers;
