"""Every SendApp path and field name the project uses, in one place.

SendApp documents its base URL (the account's domain + `/api`), `X-API-Key` auth and `POST /whatsapp-meta/send`
(https://sendapp.live/docs). Its contact API is listed as a capability but not published: the paths below are the
contract this project models (docs/contracts/sendapp.md). When SendApp publishes its own, only this module
and `models.py` change.
"""

REAL_BASE_URL = "https://app.sendapp.ai/api"
AUTH_HEADER = "X-API-Key"

CONTACTS = "/contacts"
CONTACT = "/contacts/{contact_id}"
CONTACT_TAGS = "/contacts/{contact_id}/tags"
CONTACT_NOTES = "/contacts/{contact_id}/notes"
CONTACT_TASKS = "/contacts/{contact_id}/tasks"
CONTACT_TASK = "/contacts/{contact_id}/tasks/{task_id}"
SEND = "/whatsapp-meta/send"

PARAM_PAGE = "page"
PARAM_PER_PAGE = "per_page"
PARAM_UPDATED_SINCE = "updated_since"
MAX_PER_PAGE = 100
ENVELOPE = "data"

# Modeled limit: 60 requests a minute, answered with 429 and Retry-After beyond it.
DEFAULT_MIN_INTERVAL = 1.0
