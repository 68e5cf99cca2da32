"""HighLevel API constants (https://highlevel.stoplight.io/docs/integrations, `apps/contacts.json`)."""

REAL_BASE_URL = "https://services.leadconnectorhq.com"
CONTACTS_VERSION = "2021-07-28"
ACCEPTED_VERSIONS = ("2021-07-28", "v3")
MAX_PAGE_LIMIT = 500
TOKEN_PATH = "/oauth/token"
# The search index lags writes by seconds; extraction re-reads this much before each window (see docs/design.md).
DEFAULT_LOOKBACK_MINUTES = 15
