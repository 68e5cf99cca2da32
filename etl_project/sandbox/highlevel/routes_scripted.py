"""What people do in HighLevel's own UI, scripted under `/_sandbox/highlevel/` (outside the API, no token):
edit a contact, book, move or cancel an appointment. Each change fires the webhooks HighLevel would send.

The API has no appointment writes in the stand-in (the sync never writes appointments), so these are the only
way a test makes one change; a contact edit here is a user's edit (the API's own writes fire webhooks too).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from etl_project.sandbox.highlevel.routes_contacts import apply_fields, contact_events, public
from etl_project.sandbox.highlevel.store import HighLevelStore, iso
from etl_project.sandbox.web import ApiFault
from etl_project.sandbox.webhooks import emitter

PREFIX = "/_sandbox/highlevel"


def register(app: FastAPI, store: HighLevelStore) -> None:
    emit = emitter(app)

    def contact(contact_id: str) -> dict[str, Any]:
        found = store.contacts.get(contact_id)
        if found is None:
            raise ApiFault(404, "Contact not found")
        return found

    async def fields(request: Request) -> dict[str, Any]:
        body = await request.json()
        if not isinstance(body, dict):
            raise ApiFault(422, ["body must be an object"])
        return body

    @app.put(f"{PREFIX}/contacts/{{contact_id}}")
    async def edit_contact(contact_id: str, request: Request) -> Any:
        record = contact(contact_id)
        before = dict(record)
        apply_fields(record, await fields(request))
        store.touch(record)
        contact_events(emit, before, record)
        return {"contact": public(record)}

    @app.post(f"{PREFIX}/contacts/{{contact_id}}/appointments")
    async def book(contact_id: str, request: Request) -> JSONResponse:
        contact(contact_id)
        now = iso(datetime.now(UTC))
        event = {
            "id": store.new_id(),
            "calendarId": "cal-discovery",
            "contactId": contact_id,
            "locationId": store.settings.location_id,
            "title": "Discovery call",
            "appointmentStatus": "confirmed",
            "assignedUserId": "usr-sales",
            "startTime": now,
            "endTime": now,
            "notes": None,
            "address": "Zoom",
            **(await fields(request)),
            "dateAdded": now,
            "dateUpdated": now,
        }
        store.appointments.setdefault(contact_id, {})[event["id"]] = event
        emit("AppointmentCreate", event)
        return JSONResponse({"appointment": event}, status_code=201)

    @app.put(f"{PREFIX}/contacts/{{contact_id}}/appointments/{{event_id}}")
    async def move(contact_id: str, event_id: str, request: Request) -> Any:
        event = _appointment(store, contact(contact_id)["id"], event_id)
        event.update(await fields(request))
        event["dateUpdated"] = iso(datetime.now(UTC))
        emit("AppointmentUpdate", event)
        return {"appointment": event}

    @app.delete(f"{PREFIX}/contacts/{{contact_id}}/appointments/{{event_id}}")
    async def cancel(contact_id: str, event_id: str) -> Any:
        event = _appointment(store, contact(contact_id)["id"], event_id)
        del store.appointments[contact_id][event_id]
        emit("AppointmentDelete", event)
        return {"succeded": True}


def _appointment(store: HighLevelStore, contact_id: str, event_id: str) -> dict[str, Any]:
    event = store.appointments.get(contact_id, {}).get(event_id)
    if event is None:
        raise ApiFault(404, "Appointment not found")
    return event
