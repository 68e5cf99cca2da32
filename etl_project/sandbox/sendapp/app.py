"""The SendApp stand-in: `X-API-Key` auth, the modeled contact API and `POST /api/whatsapp-meta/send`."""

from __future__ import annotations

import asyncio
import math
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from etl_project.sandbox.highlevel.store import iso
from etl_project.sandbox.limits import Faults, SlidingWindowLimiter, Stats
from etl_project.sandbox.sendapp.store import SendAppStore
from etl_project.sandbox.web import route_template

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
CONTACT_FIELDS = {"first_name", "last_name", "number", "email", "tags", "custom_fields"}


class SendAppFault(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"status": "error", "message": message}, status_code=status, headers=headers)


def _parse_time(value: str) -> datetime:
    """A time as SendApp reads one, 422 otherwise: the stand-in's own reading, not the client's parser (see
    `sandbox/highlevel/store.py: iso`)."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SendAppFault(422, f"invalid datetime: {value}") from None


def create_app(store: SendAppStore, limiter: SlidingWindowLimiter, faults: Faults, stats: Stats) -> FastAPI:
    app = FastAPI(title="SendApp sandbox", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(SendAppFault)
    async def _fault(_: Request, exc: SendAppFault) -> JSONResponse:
        return error(exc.status, exc.message, exc.headers)

    @app.middleware("http")
    async def gate(request: Request, call_next: Any) -> Any:
        path = request.url.path
        if path.startswith("/_sandbox/"):
            return await call_next(request)
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        key = request.headers.get("X-API-Key") or request.query_params.get("apikey")
        if key != store.settings.api_key:
            response = error(401, "Invalid API key")
        else:
            decision = limiter.check(key, now=time.monotonic())
            if not decision.allowed:
                oldest = limiter.oldest(key)
                wait = max(1, math.ceil(oldest + limiter.settings.interval_ms / 1000 - time.monotonic()))
                response = error(429, "Too many requests", {"Retry-After": str(wait)})
            elif faults.should_fail(path):
                response = error(faults.error_status, "Injected failure")
            else:
                response = await call_next(request)
        is_write = request.method in {"POST", "PUT", "DELETE"}
        stats.record(request.method, route_template(path), response.status_code, is_write)
        if is_write and faults.answer_delay_ms and path.startswith(faults.answer_delay_path):
            await asyncio.sleep(faults.answer_delay_ms / 1000)  # applied already; the answer comes late
        return response

    def contact_or_404(contact_id: int) -> dict[str, Any]:
        contact = store.contacts.get(contact_id)
        if contact is None:
            raise SendAppFault(404, "Contact not found")
        return contact

    def validate_contact(body: Any, creating: bool) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise SendAppFault(422, "body must be an object")
        unknown = sorted(set(body) - CONTACT_FIELDS)
        if unknown:
            raise SendAppFault(422, f"unknown field(s): {', '.join(unknown)}")
        if creating and not body.get("number"):
            raise SendAppFault(422, "number is required")
        if "number" in body and not re.fullmatch(r"\d{8,15}", str(body["number"])):
            raise SendAppFault(422, "number must be international digits without '+'")
        if body.get("email") and not EMAIL.match(str(body["email"])):
            raise SendAppFault(422, "email is invalid")
        if "tags" in body and not (isinstance(body["tags"], list) and all(isinstance(t, str) for t in body["tags"])):
            raise SendAppFault(422, "tags must be a list of strings")
        if "custom_fields" in body and not isinstance(body["custom_fields"], dict):
            raise SendAppFault(422, "custom_fields must be an object")
        return body

    @app.get("/api/contacts")
    async def list_contacts(page: int = 1, per_page: int = 20, updated_since: str | None = None) -> Any:
        if not 1 <= per_page <= 100:
            raise SendAppFault(422, "per_page must be between 1 and 100")
        rows = sorted(store.contacts.values(), key=lambda c: (c["updated_at"], c["id"]))
        if updated_since:
            since = _parse_time(updated_since)
            rows = [c for c in rows if _parse_time(c["updated_at"]) >= since]
        start = (max(page, 1) - 1) * per_page
        data = rows[start : start + per_page]
        meta = {"page": page, "per_page": per_page, "total": len(rows), "has_more": start + per_page < len(rows)}
        return {"data": data, "meta": meta}

    @app.post("/api/contacts")
    async def create_contact(request: Request) -> JSONResponse:
        body = validate_contact(await request.json(), creating=True)
        if store.find_by_number(str(body["number"])):
            raise SendAppFault(409, "A contact with this number already exists")
        now = iso(datetime.now(UTC))
        contact = {
            "id": store.new_id(),
            "first_name": "",
            "last_name": "",
            "email": None,
            "tags": [],
            "custom_fields": {},
            **body,
            "number": str(body["number"]),
            "created_at": now,
            "updated_at": now,
        }
        store.contacts[contact["id"]] = contact
        return JSONResponse({"data": contact}, status_code=201)

    @app.get("/api/contacts/{contact_id}")
    async def get_contact(contact_id: int) -> Any:
        return {"data": contact_or_404(contact_id)}

    @app.put("/api/contacts/{contact_id}")
    async def update_contact(contact_id: int, request: Request) -> Any:
        contact = contact_or_404(contact_id)
        body = validate_contact(await request.json(), creating=False)
        if "number" in body:
            other = store.find_by_number(str(body["number"]))
            if other is not None and other["id"] != contact_id:
                raise SendAppFault(409, "A contact with this number already exists")
        contact.update(body)
        store.touch(contact)
        return {"data": contact}

    @app.delete("/api/contacts/{contact_id}")
    async def delete_contact(contact_id: int) -> Any:
        contact_or_404(contact_id)
        del store.contacts[contact_id]
        store.notes.pop(contact_id, None)
        store.tasks.pop(contact_id, None)
        return {"status": "success"}

    @app.post("/api/contacts/{contact_id}/tags")
    async def add_tags(contact_id: int, request: Request) -> Any:
        contact = contact_or_404(contact_id)
        tags = _tags(await request.json())
        contact["tags"] = list(dict.fromkeys([*contact["tags"], *tags]))
        store.touch(contact)
        return {"tags": contact["tags"]}

    @app.delete("/api/contacts/{contact_id}/tags")
    async def remove_tags(contact_id: int, request: Request) -> Any:
        contact = contact_or_404(contact_id)
        drop = set(_tags(await request.json()))
        contact["tags"] = [t for t in contact["tags"] if t not in drop]
        store.touch(contact)
        return {"tags": contact["tags"]}

    @app.get("/api/contacts/{contact_id}/notes")
    async def list_notes(contact_id: int) -> Any:
        contact_or_404(contact_id)
        return {"data": list(store.notes.get(contact_id, {}).values())}

    @app.post("/api/contacts/{contact_id}/notes")
    async def create_note(contact_id: int, request: Request) -> JSONResponse:
        contact_or_404(contact_id)
        body = await request.json()
        if not isinstance(body, dict) or not str(body.get("body") or "").strip():
            raise SendAppFault(422, "body is required")
        note = {
            "id": store.new_id(),
            "contact_id": contact_id,
            "body": body["body"],
            "created_at": iso(datetime.now(UTC)),
        }
        store.notes.setdefault(contact_id, {})[note["id"]] = note
        return JSONResponse({"data": note}, status_code=201)

    @app.get("/api/contacts/{contact_id}/tasks")
    async def list_tasks(contact_id: int) -> Any:
        contact_or_404(contact_id)
        return {"data": list(store.tasks.get(contact_id, {}).values())}

    @app.post("/api/contacts/{contact_id}/tasks")
    async def create_task(contact_id: int, request: Request) -> JSONResponse:
        contact_or_404(contact_id)
        body = _task_body(await request.json(), creating=True)
        task = {
            "id": store.new_id(),
            "contact_id": contact_id,
            "status": "open",
            **body,
            "updated_at": iso(datetime.now(UTC)),
        }
        store.tasks.setdefault(contact_id, {})[task["id"]] = task
        return JSONResponse({"data": task}, status_code=201)

    @app.put("/api/contacts/{contact_id}/tasks/{task_id}")
    async def update_task(contact_id: int, task_id: int, request: Request) -> Any:
        contact_or_404(contact_id)
        task = store.tasks.get(contact_id, {}).get(task_id)
        if task is None:
            raise SendAppFault(404, "Task not found")
        task.update(_task_body(await request.json(), creating=False))
        store.touch(task)
        return {"data": task}

    @app.get("/api/get_tokens")
    async def get_tokens() -> Any:
        return {"status": "success", "data": [{"token": store.settings.channel_token, "name": "WhatsApp main"}]}

    @app.post("/api/whatsapp-meta/send")
    async def send(request: Request) -> Any:
        body = await request.json()
        if not isinstance(body, dict):
            raise SendAppFault(422, "body must be an object")
        if body.get("token") != store.settings.channel_token:
            raise SendAppFault(400, "Invalid channel token")
        number = str(body.get("number") or "")
        if not re.fullmatch(r"\d{8,15}", number):
            raise SendAppFault(422, "number must be international digits without '+'")
        kind = body.get("type")
        if kind == "freetext":
            inbound = store.last_inbound.get(number)
            if inbound is None or datetime.now(UTC) - inbound > timedelta(hours=24):
                raise SendAppFault(
                    422, "Free text is only allowed within 24 hours of the customer's last message; use a template"
                )
            if not str(body.get("message") or "").strip():
                raise SendAppFault(422, "message is required")
        elif kind == "template":
            template = body.get("template")
            if not isinstance(template, dict) or not template.get("name"):
                raise SendAppFault(422, "template.name is required")
        else:
            raise SendAppFault(422, "type must be freetext or template")
        message = {
            "id": f"wamid.{store.new_id()}",
            "number": number,
            "type": kind,
            "message": body.get("message"),
            "template": body.get("template"),
            "sent_at": iso(datetime.now(UTC)),
        }
        store.messages.append(message)
        return {"status": "success", "message_id": message["id"]}

    @app.post("/_sandbox/inbound")
    async def inbound(request: Request) -> Any:
        """Simulate the customer writing first: opens the 24-hour free-text window for that number."""
        body = await request.json()
        store.last_inbound[str(body["number"])] = datetime.now(UTC)
        return {"ok": True}

    @app.get("/_sandbox/messages")
    async def messages() -> Any:
        return {"messages": store.messages}

    return app


def _tags(body: Any) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("tags"), list) or not body["tags"]:
        raise SendAppFault(422, "tags must be a non-empty list")
    return [str(t) for t in body["tags"]]


def _task_body(body: Any, creating: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SendAppFault(422, "body must be an object")
    allowed = {"title", "due_at", "status"}
    if set(body) - allowed:
        raise SendAppFault(422, f"unknown field(s): {', '.join(sorted(set(body) - allowed))}")
    if creating and not str(body.get("title") or "").strip():
        raise SendAppFault(422, "title is required")
    if "due_at" in body and body["due_at"] is not None:
        _parse_time(str(body["due_at"]))
    if "status" in body and body["status"] not in ("open", "done"):
        raise SendAppFault(422, "status must be open or done")
    return body
