"""Small helpers the sandbox apps share: API errors as exceptions, and route templating for statistics."""

from __future__ import annotations

import re
import uuid
from http import HTTPStatus
from typing import Any

_ID_SEGMENT = re.compile(r"^(?=.*\d)[A-Za-z0-9_-]{6,}$")


class ApiFault(Exception):
    """Raised by a handler to answer with a platform-shaped error body."""

    def __init__(self, status: int, message: Any, body: dict[str, Any] | None = None) -> None:
        super().__init__(str(message))
        self.status = status
        self.message = message
        self.body = body


def phrase(status: int) -> str:
    return HTTPStatus(status).phrase


def trace_id() -> str:
    return str(uuid.uuid4())


def route_template(path: str) -> str:
    """`/contacts/abc123XYZ/tasks` → `/contacts/{id}/tasks`, so statistics group by endpoint."""
    return "/".join("{id}" if _ID_SEGMENT.match(seg) else seg for seg in path.split("/"))
