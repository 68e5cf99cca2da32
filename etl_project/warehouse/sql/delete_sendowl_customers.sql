DELETE FROM sendowl_customers;
