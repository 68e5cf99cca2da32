"""Task, note and appointment endpoints of the HighLevel stand-in (one list per contact, no paging)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from etl_project.sandbox.highlevel import validate
from etl_project.sandbox.highlevel.store import HighLevelStore, iso
from etl_project.sandbox.web import ApiFault, trace_id
from etl_project.sandbox.webhooks import emitter


def register(app: FastAPI, store: HighLevelStore, check_location: Callable[[Any], None]) -> None:
    # HighLevel fires Task Create/Complete/Delete (no TaskUpdate, nothing on a re-open) and Note Create/Update/Delete.
    emit = emitter(app)

    def contact_or_404(contact_id: str) -> dict[str, Any]:
        contact = store.contacts.get(contact_id)
        if contact is None:
            raise ApiFault(400, "Contact not found")
        return contact

    def child_or_404(table: dict[str, dict[str, dict[str, Any]]], contact_id: str, child_id: str, kind: str) -> Any:
        contact_or_404(contact_id)
        child = table.get(contact_id, {}).get(child_id)
        if child is None:
            raise ApiFault(404, f"{kind} not found")
        return child

    # -- tasks -----------------------------------------------------------------------------------------------
    @app.get("/contacts/{contact_id}/tasks")
    async def list_tasks(contact_id: str) -> Any:
        contact_or_404(contact_id)
        return {"tasks": list(store.tasks.get(contact_id, {}).values()), "traceId": trace_id()}

    @app.post("/contacts/{contact_id}/tasks")
    async def create_task(contact_id: str, request: Request) -> JSONResponse:
        contact_or_404(contact_id)
        body = validate.task_body(await request.json(), creating=True)
        task = {"id": store.new_id(), "body": None, "assignedTo": None, **body, "contactId": contact_id}
        store.tasks.setdefault(contact_id, {})[task["id"]] = task
        emit("TaskCreate", task)
        return JSONResponse({"task": task, "traceId": trace_id()}, status_code=201)

    @app.get("/contacts/{contact_id}/tasks/{task_id}")
    async def get_task(contact_id: str, task_id: str) -> Any:
        return {"task": child_or_404(store.tasks, contact_id, task_id, "Task"), "traceId": trace_id()}

    @app.put("/contacts/{contact_id}/tasks/{task_id}")
    async def update_task(contact_id: str, task_id: str, request: Request) -> Any:
        task = child_or_404(store.tasks, contact_id, task_id, "Task")
        was = task.get("completed")
        task.update(validate.task_body(await request.json(), creating=False))
        if task.get("completed") and not was:
            emit("TaskComplete", task)
        return {"task": task, "traceId": trace_id()}

    @app.put("/contacts/{contact_id}/tasks/{task_id}/completed")
    async def complete_task(contact_id: str, task_id: str, request: Request) -> Any:
        task = child_or_404(store.tasks, contact_id, task_id, "Task")
        body = validate.require_object(await request.json())
        if not isinstance(body.get("completed"), bool):
            raise ApiFault(422, ["completed must be a boolean value"])
        was = task.get("completed")
        task["completed"] = body["completed"]
        if body["completed"] and not was:
            emit("TaskComplete", task)
        return {"task": task, "traceId": trace_id()}

    @app.delete("/contacts/{contact_id}/tasks/{task_id}")
    async def delete_task(contact_id: str, task_id: str) -> Any:
        emit("TaskDelete", child_or_404(store.tasks, contact_id, task_id, "Task"))
        del store.tasks[contact_id][task_id]
        return {"succeded": True, "traceId": trace_id()}

    @app.post("/locations/{location_id}/tasks/search")
    async def search_tasks(location_id: str, request: Request) -> Any:
        check_location(location_id)
        body = validate.require_object(await request.json())
        wanted = set(body.get("contactId") or [])
        assignees = set(body.get("assignedTo") or [])
        query = str(body.get("query") or "").lower()
        rows = []
        for contact_id, tasks in store.tasks.items():
            if wanted and contact_id not in wanted:
                continue
            for task in tasks.values():
                if "completed" in body and body["completed"] is not None and task["completed"] != body["completed"]:
                    continue
                if assignees and task.get("assignedTo") not in assignees:
                    continue
                if query and query not in str(task.get("title", "")).lower():
                    continue
                rows.append(task)
        skip, limit = int(body.get("skip") or 0), int(body.get("limit") or 25)
        return {"tasks": rows[skip : skip + limit], "traceId": trace_id()}

    # -- notes -----------------------------------------------------------------------------------------------
    @app.get("/contacts/{contact_id}/notes")
    async def list_notes(contact_id: str) -> Any:
        contact_or_404(contact_id)
        return {"notes": list(store.notes.get(contact_id, {}).values()), "traceId": trace_id()}

    @app.post("/contacts/{contact_id}/notes")
    async def create_note(contact_id: str, request: Request) -> JSONResponse:
        contact_or_404(contact_id)
        body = validate.note_body(await request.json())
        note = {
            "id": store.new_id(),
            "userId": None,
            **body,
            "dateAdded": iso(datetime.now(UTC)),
            "contactId": contact_id,
        }
        store.notes.setdefault(contact_id, {})[note["id"]] = note
        emit("NoteCreate", note)
        return JSONResponse({"note": note, "traceId": trace_id()}, status_code=201)

    @app.get("/contacts/{contact_id}/notes/{note_id}")
    async def get_note(contact_id: str, note_id: str) -> Any:
        return {"note": child_or_404(store.notes, contact_id, note_id, "Note"), "traceId": trace_id()}

    @app.put("/contacts/{contact_id}/notes/{note_id}")
    async def update_note(contact_id: str, note_id: str, request: Request) -> Any:
        note = child_or_404(store.notes, contact_id, note_id, "Note")
        note.update(validate.note_body(await request.json()))
        emit("NoteUpdate", note)
        return {"note": note, "traceId": trace_id()}

    @app.delete("/contacts/{contact_id}/notes/{note_id}")
    async def delete_note(contact_id: str, note_id: str) -> Any:
        emit("NoteDelete", child_or_404(store.notes, contact_id, note_id, "Note"))
        del store.notes[contact_id][note_id]
        return {"succeded": True, "traceId": trace_id()}

    # -- appointments ----------------------------------------------------------------------------------------
    @app.get("/contacts/{contact_id}/appointments")
    async def list_appointments(contact_id: str) -> Any:
        contact_or_404(contact_id)
        return {"events": list(store.appointments.get(contact_id, {}).values()), "traceId": trace_id()}
