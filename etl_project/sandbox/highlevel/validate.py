"""Request-body validation of the HighLevel stand-in, answering 422 with a list of messages like HighLevel."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from etl_project.sandbox.web import ApiFault

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
CONTACT_FIELDS = {
    "firstName",
    "lastName",
    "name",
    "email",
    "phone",
    "companyName",
    "type",
    "source",
    "assignedTo",
    "dnd",
    "dndSettings",
    "tags",
    "customFields",
    "address1",
    "city",
    "state",
    "postalCode",
    "country",
    "website",
    "timezone",
    "dateOfBirth",
    "businessId",
    "locationId",
    "gender",
}
TASK_FIELDS = {"title", "body", "dueDate", "completed", "assignedTo"}
NOTE_FIELDS = {"body", "userId", "title", "color", "pinned"}


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiFault(422, ["body must be an object"])
    return body


def _unknown(body: dict[str, Any], allowed: set[str]) -> list[str]:
    return [f"property {k} should not exist" for k in sorted(set(body) - allowed)]


def is_iso_date(value: Any) -> bool:
    """Whether HighLevel would take `value` as an ISO date: the stand-in's own check, not the client's parser."""
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def contact_body(body: Any) -> dict[str, Any]:
    body = require_object(body)
    problems = _unknown(body, CONTACT_FIELDS)
    email = body.get("email")
    if email is not None and (not isinstance(email, str) or not EMAIL.match(email)):
        problems.append("email must be an email")
    tags = body.get("tags")
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
        problems.append("each value in tags must be a string")
    if "dnd" in body and not isinstance(body["dnd"], bool):
        problems.append("dnd must be a boolean value")
    for key in ("firstName", "lastName", "name", "phone", "companyName"):
        if body.get(key) is not None and not isinstance(body[key], str):
            problems.append(f"{key} must be a string")
    custom = body.get("customFields")
    if custom is not None and (
        not isinstance(custom, list) or not all(isinstance(c, dict) and (c.get("id") or c.get("key")) for c in custom)
    ):
        problems.append("customFields must be an array of {id|key, field_value}")
    if problems:
        raise ApiFault(422, problems)
    return body


def task_body(body: Any, creating: bool) -> dict[str, Any]:
    body = require_object(body)
    problems = _unknown(body, TASK_FIELDS)
    title = body.get("title")
    if (creating or "title" in body) and (not isinstance(title, str) or not title.strip()):
        problems.append("title should not be empty")
    if (creating or "dueDate" in body) and not is_iso_date(body.get("dueDate")):
        problems.append("dueDate must be a valid ISO 8601 date string")
    if (creating or "completed" in body) and not isinstance(body.get("completed"), bool):
        problems.append("completed must be a boolean value")
    if problems:
        raise ApiFault(422, problems)
    return body


def note_body(body: Any) -> dict[str, Any]:
    body = require_object(body)
    problems = _unknown(body, NOTE_FIELDS)
    if not isinstance(body.get("body"), str) or not body["body"].strip():
        problems.append("body should not be empty")
    if problems:
        raise ApiFault(422, problems)
    return body
