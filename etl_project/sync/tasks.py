"""Flow 4: a HighLevel task and its SendApp twin kept in step by a three-way merge.

Each pair remembers the values both sides last agreed on (the base). A field that changed on one side only since
then is copied to the other, so completing *or reopening* a task on either side does the same on the other; a field
changed on both sides goes by the configured policy (last writer wins, or a source of truth). Fields that now agree
become the new base. Every change of the base bumps the pair's generation, which is part of each write's key: the
same write is planned once per state, and a later change back and forth is a new write. Pure: facts in, decisions out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from etl_project.sync.activities import ActivityOp, make_op
from etl_project.sync.config import TaskField, TaskFlow

FLOW = "highlevel_tasks_to_sendapp"


@dataclass(frozen=True)
class TaskSide:
    """One side of a pair in golden terms: title, due date (ISO, UTC) and whether it is done."""

    title: str
    due: str | None
    done: bool

    def get(self, name: TaskField) -> Any:
        return {"title": self.title, "due": self.due, "status": self.done}[name]

    def with_values(self, values: dict[str, Any]) -> TaskSide:
        renamed = {"done" if k == "status" else k: v for k, v in values.items()}
        return replace(self, **renamed)


def unextracted_write(
    written: dict[str, Any] | None, written_at: datetime | None, extracted_at: datetime | None
) -> dict[str, Any]:
    """The values the sync last wrote to a side, while the side's last extraction predates that write (then the
    side is taken to hold them); once it is extracted again, the extraction is the truth and this is empty."""
    if written is None or written_at is None or (extracted_at is not None and extracted_at >= written_at):
        return {}
    return dict(written)


@dataclass(frozen=True)
class TaskFacts:
    """A HighLevel task and, once the sync made it, its SendApp twin: each side's freshest known values."""

    task_id: str
    person_id: str
    contact_id: str  # the HighLevel contact
    highlevel: TaskSide
    highlevel_changed_at: datetime | None = None  # HighLevel tasks carry no time: when this version was first seen
    sendapp_task_id: str | None = None  # the twin (an acknowledged create)
    sendapp_contact_id: str | None = None
    sendapp: TaskSide | None = None  # None until the twin has been extracted (or when it was deleted)
    sendapp_changed_at: datetime | None = None
    base: TaskSide | None = None  # what both sides last agreed on
    generation: int = 0


@dataclass(frozen=True)
class TaskMerge:
    to_sendapp: dict[str, Any] = field(default_factory=dict)
    to_highlevel: dict[str, Any] = field(default_factory=dict)
    agreed: TaskSide | None = None  # the new base, when fields now agree that did not before


def normalised(side: TaskSide, config: TaskFlow) -> TaskSide:
    return side if side.title else replace(side, title=config.untitled)


def merge_task(t: TaskFacts, config: TaskFlow) -> TaskMerge:
    """Which fields each side is missing, and the base both sides now agree on."""
    if t.sendapp is None or t.base is None:
        return TaskMerge()  # no twin extracted yet (a twin always has a base: acknowledging its create stores it)
    hl, sa, base = normalised(t.highlevel, config), t.sendapp, t.base
    to_sa: dict[str, Any] = {}
    to_hl: dict[str, Any] = {}
    agreed: dict[str, Any] = {}
    for name in config.fields:
        h, s, b = hl.get(name), sa.get(name), base.get(name)
        if h == s:
            if h != b:
                agreed[name] = h
        elif s == b:
            to_sa[name] = h
        elif h == b:
            to_hl[name] = s
        elif _winner(name, t, config) == "highlevel":
            to_sa[name] = h
        else:
            to_hl[name] = s
    # HighLevel requires a title and a due date: a SendApp edit clearing one is not carried there (nor is it retried).
    to_hl = {k: v for k, v in to_hl.items() if v not in ("", None)}
    return TaskMerge(to_sa, to_hl, base.with_values(agreed) if agreed else None)


def _winner(name: TaskField, t: TaskFacts, config: TaskFlow) -> str:
    policy = config.merge.get(name, "lww")
    if policy != "lww":
        return policy
    if t.sendapp_changed_at and t.highlevel_changed_at and t.sendapp_changed_at > t.highlevel_changed_at:
        return "sendapp"
    return "highlevel"  # ties and unknown times go to the hub


def sendapp_fields(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "title":
            out["title"] = value
        elif name == "due":
            out["due_at"] = value
        elif name == "status":
            out["status"] = "done" if value else "open"
    return out


def highlevel_fields(values: dict[str, Any]) -> dict[str, Any]:
    names = {"title": "title", "due": "dueDate", "status": "completed"}
    return {names[k]: v for k, v in values.items()}


def task_ops(tasks: Iterable[TaskFacts], config: TaskFlow) -> list[ActivityOp]:
    """Each HighLevel task without a twin gets one; each pair gets the writes its merge asks for."""
    ops: list[ActivityOp] = []
    for t in sorted(tasks, key=lambda t: t.task_id):
        if t.sendapp_task_id is None:
            hl = normalised(t.highlevel, config)
            body = sendapp_fields({"title": hl.title, "due": hl.due, "status": hl.done})
            ops.append(make_op(FLOW, "sendapp", "create_task", t.person_id, t.task_id, body))
            continue
        merge = merge_task(t, config)
        for platform, sets, ids, fields in (
            ("sendapp", merge.to_sendapp, (t.sendapp_task_id, t.sendapp_contact_id), sendapp_fields),
            ("highlevel", merge.to_highlevel, (t.task_id, t.contact_id), highlevel_fields),
        ):
            if sets:
                payload = {"task_id": ids[0], "contact_id": ids[1], "sets": sets, **fields(sets)}
                key = (platform, t.generation, *sorted(sets.items()))
                ops.append(make_op(FLOW, platform, "update_task", t.person_id, t.task_id, payload, *key))
    return ops


def task_agreements(tasks: Iterable[TaskFacts], config: TaskFlow) -> list[tuple[TaskFacts, TaskSide]]:
    """Pairs whose sides now agree on values their base does not hold yet: the base to store."""
    out = []
    for t in tasks:
        agreed = merge_task(t, config).agreed
        if agreed is not None:
            out.append((t, agreed))
    return out
