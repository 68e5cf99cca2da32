"""SendOwl API constants (https://www.sendowl.com/developers/api; see docs/contracts/sendowl.md)."""

REAL_BASE_URL = "https://www.sendowl.com"  # `https://api.sendowl.com` answers too: the host is configurable
# The API version is per resource, in the path.
ORDERS = "/api/v1_3/orders"
ORDER_SEARCH = "/api/v1_3/orders/search"
PRODUCTS = "/api/v1/products"
MAX_PER_PAGE = 50
# "Do not call the API more than once per second or your IP address may be blocked."
DEFAULT_MIN_INTERVAL = 1.0
# How long to sit out a 403 block before trying again; SendOwl does not say how long a block lasts (UNCERTAIN).
DEFAULT_BLOCK_COOLDOWN = 30.0
WRITABLE_ORDER_FIELDS = frozenset(
    {
        "buyer_name",
        "buyer_email",
        "giftee_name",
        "giftee_email",
        "tag",
        "shipping_address1",
        "shipping_address2",
        "shipping_city",
        "shipping_region",
        "shipping_postcode",
    }
)
