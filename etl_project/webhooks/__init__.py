"""Signed webhooks from HighLevel and SendOwl: a receiver that verifies them and a durable inbox a sensor drains.

No Dagster here. `signing` signs and verifies (shared with the sandbox), `events` turns a verified body into an inbox
row or a reason to ignore it, `inbox` is the SQLite store, `app` the ASGI service, `__main__` its command line and
`process` runs that command as a child process (tests, benchmark, demo). See docs/webhooks.md.
"""

from etl_project.webhooks.inbox import Batch, Inbox, InboxEvent

__all__ = ["Batch", "Inbox", "InboxEvent"]
