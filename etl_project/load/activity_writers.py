"""One activity writer per platform: each operation the activity outbox holds, as a method on the platform's client.

`send` performs one row on the record it hangs on (the parent: the person's contact, or the SendOwl order) and
returns the id of what it made, if anything. `find` returns the note or task an earlier attempt of the row made
although its answer was lost: found by the marker its body carries (SendApp tasks have no body: by title and due
time, among tasks that are not another task's twin yet). Operations that create nothing findable return None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

from etl_project.platforms.errors import PlatformError
from etl_project.platforms.fields import parse_instant
from etl_project.platforms.highlevel import HighLevelClient
from etl_project.platforms.sendapp import SendAppClient
from etl_project.platforms.sendowl import SendOwlClient
from etl_project.sync.activities import marker
from etl_project.warehouse.activities import PendingActivity

Payload = Mapping[str, Any]
Operation = Callable[[str, Payload], str | None]  # (parent id, payload) → the id of what the write made, if any


class ActivityWriter(Protocol):
    platform: str

    def send(self, row: PendingActivity, parent: str) -> str | None: ...
    def find(self, row: PendingActivity, parent: str, taken: set[str]) -> str | None: ...


class _TableWriter:
    """Dispatch by operation name through `operations` (operation → method)."""

    platform: str
    operations: dict[str, Operation]

    def send(self, row: PendingActivity, parent: str) -> str | None:
        operation = self.operations.get(row.operation)
        if operation is None:
            raise PlatformError(self.platform, f"unsupported activity {row.operation}")
        return operation(parent, row.payload)

    def find(self, row: PendingActivity, parent: str, taken: set[str]) -> str | None:
        return None


def _marked(listed: Any, key: str) -> str | None:
    """The id of the listed note or task whose body carries the row's marker."""
    tag = marker(key)
    return next((str(m.id) for m, raw in listed.valid if tag in str(raw.get("body") or "")), None)


class HighLevelActivityWriter(_TableWriter):
    platform = "highlevel"

    def __init__(self, client: HighLevelClient) -> None:
        self.client = client
        self.operations = {
            "add_tags": self.add_tags,
            "create_task": self.create_task,
            "create_note": self.create_note,
            "update_task": self.update_task,
        }

    def add_tags(self, parent: str, p: Payload) -> None:
        self.client.add_tags(parent, list(p["tags"]))

    def create_task(self, parent: str, p: Payload) -> str:
        return str(self.client.create_task(parent, dict(p))["id"])

    def create_note(self, parent: str, p: Payload) -> str:
        return str(self.client.create_note(parent, {"body": p["body"]})["id"])

    def update_task(self, parent: str, p: Payload) -> str:
        sets: dict[str, Any] = {k: p[k] for k in ("title", "dueDate", "completed") if k in p}
        if set(sets) == {"completed"}:  # HighLevel's own endpoint for the check box
            answer = self.client.set_task_completed(p["contact_id"], p["task_id"], bool(sets["completed"]))
        else:
            answer = self.client.update_task(p["contact_id"], p["task_id"], sets)
        return str(answer.get("id", p["task_id"]))

    def find(self, row: PendingActivity, parent: str, taken: set[str]) -> str | None:
        if row.operation == "create_task":
            return _marked(self.client.get_tasks(parent), row.key)
        if row.operation == "create_note":
            return _marked(self.client.get_notes(parent), row.key)
        return None


class SendAppActivityWriter(_TableWriter):
    platform = "sendapp"

    def __init__(self, client: SendAppClient, channel_token: str | None) -> None:
        self.client = client
        self.channel_token = channel_token
        self.operations = {
            "create_task": self.create_task,
            "update_task": self.update_task,
            "create_note": self.create_note,
            "send_message": self.send_message,
        }

    def create_task(self, parent: str, p: Payload) -> str:
        fields = {k: p[k] for k in ("title", "due_at", "status") if p.get(k) is not None}
        return str(self.client.create_task(int(parent), fields)["id"])

    def update_task(self, parent: str, p: Payload) -> str:
        fields = {k: p[k] for k in ("title", "due_at", "status") if k in p}
        return str(self.client.update_task(int(p["contact_id"] or parent), int(p["task_id"]), fields)["id"])

    def create_note(self, parent: str, p: Payload) -> str:
        return str(self.client.create_note(int(parent), p["body"])["id"])

    def send_message(self, parent: str, p: Payload) -> str | None:
        if not self.channel_token:
            raise PlatformError("sendapp", "no WhatsApp channel token configured (SENDAPP_CHANNEL_TOKEN)")
        return self.client.send_template(self.channel_token, p["number"], p["template"], p.get("language", "en"))

    def find(self, row: PendingActivity, parent: str, taken: set[str]) -> str | None:
        if row.operation == "create_task":
            due = row.payload.get("due_at")
            wanted = parse_instant(due) if due else None
            for task, _raw in self.client.get_tasks(int(parent)).valid:
                if str(task.id) not in taken and task.title == row.payload["title"] and task.due_at == wanted:
                    return str(task.id)
            return None
        if row.operation == "create_note":
            return _marked(self.client.get_notes(int(parent)), row.key)
        return None


class SendOwlActivityWriter(_TableWriter):
    platform = "sendowl"

    def __init__(self, client: SendOwlClient) -> None:
        self.client = client
        self.operations = {"tag_order": self.tag_order}

    def tag_order(self, parent: str, p: Payload) -> None:
        self.client.update_order(int(parent), {"tag": p["tag"]})


def activity_writer(platform: str, client: object, channel_token: str | None = None) -> ActivityWriter:
    """The activity writer for a platform, around its client (SendApp's messages need the channel token)."""
    if platform == "highlevel":
        return HighLevelActivityWriter(cast(HighLevelClient, client))
    if platform == "sendapp":
        return SendAppActivityWriter(cast(SendAppClient, client), channel_token)
    if platform == "sendowl":
        return SendOwlActivityWriter(cast(SendOwlClient, client))
    raise ValueError(f"no activity writer for {platform}")
