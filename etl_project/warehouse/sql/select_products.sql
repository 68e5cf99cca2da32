SELECT id, name FROM sendowl_products;
