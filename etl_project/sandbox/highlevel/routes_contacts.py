"""Contact endpoints of the HighLevel stand-in."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from etl_project.sandbox.highlevel import validate
from etl_project.sandbox.highlevel.search import SearchError
from etl_project.sandbox.highlevel.store import HighLevelStore, iso
from etl_project.sandbox.web import ApiFault, trace_id
from etl_project.sandbox.webhooks import Emit, emitter


def public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def digits(value: Any) -> str:
    return re.sub(r"\D", "", str(value or ""))


def _same_phone(a: Any, b: Any) -> bool:
    """Compare phone numbers on their last ten digits (HighLevel matches on the normalised number)."""
    da, db = digits(a)[-10:], digits(b)[-10:]
    return bool(da) and da == db


def apply_fields(contact: dict[str, Any], body: dict[str, Any]) -> None:
    for key, value in body.items():
        if key == "locationId":
            continue
        if key == "tags":
            contact["tags"] = list(dict.fromkeys(value))  # PUT/upsert tags replace the whole list
        elif key == "customFields":
            merged = {c["id"]: c for c in contact.get("customFields", [])}
            for item in value:
                fid = item.get("id") or item.get("key")
                merged[fid] = {"id": fid, "value": item.get("field_value", item.get("value"))}
            contact["customFields"] = list(merged.values())
        else:
            contact[key] = value
    if "name" not in body and ("firstName" in body or "lastName" in body):
        contact["name"] = " ".join(p for p in (contact.get("firstName"), contact.get("lastName")) if p) or None


def contact_events(emit: Emit, before: dict[str, Any] | None, contact: dict[str, Any]) -> None:
    """What HighLevel fires for a contact write: Create or Update, plus TagUpdate and DndUpdate when those changed."""
    emit("ContactCreate" if before is None else "ContactUpdate", public(contact))
    if before is not None and before.get("tags") != contact.get("tags"):
        emit("ContactTagUpdate", public(contact))
    if before is not None and before.get("dnd") != contact.get("dnd"):
        emit("ContactDndUpdate", public(contact))


def register(app: FastAPI, store: HighLevelStore, check_location: Callable[[Any], None]) -> None:
    emit = emitter(app)

    def get_or_404(contact_id: str) -> dict[str, Any]:
        contact = store.contacts.get(contact_id)
        if contact is None:
            raise ApiFault(400, "Contact not found")
        return contact

    def find_duplicate(email: Any, phone: Any) -> dict[str, Any] | None:
        if email:
            needle = str(email).strip().lower()
            for c in store.contacts.values():
                if c.get("email") and str(c["email"]).strip().lower() == needle:
                    return c
        if phone:
            for c in store.contacts.values():
                if c.get("phone") and _same_phone(c["phone"], phone):
                    return c
        return None

    def create(body: dict[str, Any]) -> dict[str, Any]:
        now = iso(datetime.now(UTC))
        contact: dict[str, Any] = {
            "id": store.new_id(),
            "locationId": store.settings.location_id,
            "tags": [],
            "customFields": [],
            "dnd": False,
            "type": "lead",
            "dateAdded": now,
            "dateUpdated": now,
        }
        apply_fields(contact, body)
        store.contacts[contact["id"]] = contact
        store.version += 1
        return contact

    @app.post("/contacts/search")
    async def search(request: Request) -> JSONResponse:
        body = validate.require_object(await request.json())
        check_location(body.get("locationId"))
        limit = body.get("pageLimit", 20)
        if not isinstance(limit, int) or not 1 <= limit <= 500:
            raise ApiFault(422, ["pageLimit must not be greater than 500"])
        if body.get("page") and body.get("searchAfter"):
            raise ApiFault(422, ["page and searchAfter cannot be used together"])
        try:
            ids, total = request.app.state.search.run(store.contacts, store.version, body)
        except SearchError as exc:
            raise ApiFault(422, [str(exc)]) from None
        sort_field = (body.get("sort") or [{"field": "dateAdded"}])[0].get("field", "dateAdded")
        contacts = []
        for cid in ids:
            item = public(store.contacts[cid])
            item["searchAfter"] = [request.app.state.search.sort_value(store.contacts[cid], sort_field), cid]
            contacts.append(item)
        return JSONResponse({"contacts": contacts, "total": total, "traceId": trace_id()})

    @app.get("/contacts/search/duplicate")
    async def duplicate(locationId: str | None = None, email: str | None = None, number: str | None = None) -> Any:
        check_location(locationId)
        found = find_duplicate(email, number)
        return {"contact": public(found) if found else None, "traceId": trace_id()}

    @app.get("/contacts/business/{business_id}")
    async def by_business(
        business_id: str,
        locationId: str | None = None,
        limit: int = 25,
        skip: int = 0,
        query: str | None = None,
    ) -> Any:
        check_location(locationId)
        rows = [c for c in store.contacts.values() if c.get("businessId") == business_id]
        if query:
            rows = [c for c in rows if query.lower() in str(c.get("name") or "").lower()]
        return {
            "contacts": [public(c) for c in rows[skip : skip + limit]],
            "count": len(rows),
            "traceId": trace_id(),
        }

    @app.get("/contacts/")
    @app.get("/contacts")
    async def list_contacts(
        request: Request,
        locationId: str | None = None,
        limit: int = 20,
        startAfterId: str | None = None,
        startAfter: int | None = None,
        query: str | None = None,
    ) -> Any:
        """The deprecated list endpoint: ordered by dateAdded, paged by (startAfter, startAfterId)."""
        check_location(locationId)
        if not 1 <= limit <= 100:
            raise ApiFault(422, ["limit must not be greater than 100"])
        search = request.app.state.search
        rows = sorted((search.sort_value(c, "dateAdded"), cid) for cid, c in store.contacts.items())
        if query:
            q = query.lower()
            rows = [r for r in rows if q in str(store.contacts[r[1]].get("name") or "").lower()]
        if startAfter is not None and startAfterId:
            rows = [r for r in rows if r > (startAfter, startAfterId)]
        page = rows[:limit]
        last = page[-1] if len(page) == limit and len(rows) > limit else None
        meta = {
            "total": len(store.contacts),
            "currentPage": None,
            "nextPage": None,
            "prevPage": None,
            "startAfterId": last[1] if last else None,
            "startAfter": last[0] if last else None,
            "nextPageUrl": (
                f"{request.base_url}contacts/?locationId={locationId}&limit={limit}"
                f"&startAfter={last[0]}&startAfterId={last[1]}"
                if last
                else None
            ),
        }
        return {
            "contacts": [public(store.contacts[cid]) for _, cid in page],
            "meta": meta,
            "traceId": trace_id(),
        }

    @app.post("/contacts/upsert")
    async def upsert(request: Request) -> JSONResponse:
        body = validate.contact_body(await request.json())
        check_location(body.get("locationId"))
        existing = find_duplicate(body.get("email"), body.get("phone"))
        before = None if existing is None else dict(existing)
        if existing is None:
            contact, new = create(body), True
        else:
            apply_fields(existing, body)
            store.touch(existing)
            contact, new = existing, False
        contact_events(emit, before, contact)
        return JSONResponse({"new": new, "contact": public(contact), "traceId": trace_id()})

    @app.post("/contacts/")
    @app.post("/contacts")
    async def create_contact(request: Request) -> JSONResponse:
        body = validate.contact_body(await request.json())
        check_location(body.get("locationId"))
        if not store.settings.allow_duplicates:
            dup = find_duplicate(body.get("email"), body.get("phone"))
            if dup is not None:
                field = "email" if body.get("email") and dup.get("email") else "phone"
                raise ApiFault(
                    400,
                    "This location does not allow duplicated contacts.",
                    {
                        "statusCode": 400,
                        "message": "This location does not allow duplicated contacts.",
                        "meta": {
                            "contactName": dup.get("name"),
                            "contactId": dup["id"],
                            "matchingField": field,
                        },
                        "traceId": trace_id(),
                    },
                )
        contact = create(body)
        contact_events(emit, None, contact)
        return JSONResponse({"contact": public(contact), "traceId": trace_id()}, status_code=201)

    @app.get("/contacts/{contact_id}")
    async def get_contact(contact_id: str) -> Any:
        return {"contact": public(get_or_404(contact_id)), "traceId": trace_id()}

    @app.put("/contacts/{contact_id}")
    async def update_contact(contact_id: str, request: Request) -> Any:
        contact = get_or_404(contact_id)
        body = validate.contact_body(await request.json())
        before = dict(contact)
        apply_fields(contact, body)
        store.touch(contact)
        contact_events(emit, before, contact)
        return {"succeded": True, "contact": public(contact), "traceId": trace_id()}

    @app.delete("/contacts/{contact_id}")
    async def delete_contact(contact_id: str) -> Any:
        emit("ContactDelete", public(get_or_404(contact_id)))
        del store.contacts[contact_id]
        for table in (store.tasks, store.notes, store.appointments):
            table.pop(contact_id, None)
        store.version += 1
        return {"succeded": True, "traceId": trace_id()}

    @app.post("/contacts/{contact_id}/tags")
    async def add_tags(contact_id: str, request: Request) -> JSONResponse:
        contact = get_or_404(contact_id)
        tags = _tags_body(await request.json())
        contact["tags"] = list(dict.fromkeys([*contact.get("tags", []), *tags]))
        store.touch(contact)
        emit("ContactTagUpdate", public(contact))
        return JSONResponse({"tags": contact["tags"], "traceId": trace_id()}, status_code=201)

    @app.delete("/contacts/{contact_id}/tags")
    async def remove_tags(contact_id: str, request: Request) -> Any:
        contact = get_or_404(contact_id)
        drop = {t.lower() for t in _tags_body(await request.json())}
        contact["tags"] = [t for t in contact.get("tags", []) if t.lower() not in drop]
        store.touch(contact)
        emit("ContactTagUpdate", public(contact))
        return {"tags": contact["tags"], "traceId": trace_id()}


def _tags_body(body: Any) -> list[str]:
    body = validate.require_object(body)
    tags = body.get("tags")
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) for t in tags):
        raise ApiFault(422, ["tags must be a non-empty array of strings"])
    return tags
