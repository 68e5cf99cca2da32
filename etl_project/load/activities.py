"""Execute activity writes (flows 3, 5, 6) through the platform clients, each exactly once.

The record a write hangs on (the person's contact, or the SendOwl order) is resolved when the row is sent, so a
contact created earlier in the same run is already there. Creates of notes and tasks carry a marker: an attempt
without a recorded answer (lost, 5xx, unreadable) is looked up by it before anything is created again. A WhatsApp
message that may have gone out (answer lost, 5xx, timeout, reset, unreadable 2xx) is never re-sent (status
`unknown`, with the reason); only one that SendApp provably refused (429, 4xx, no connection) is retried next run.
A write for a person whose contact there was deleted by a user ends `skipped` with the reason, unless the target
brings deleted records back (mirror mode), where it waits for the new contact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from etl_project.load.executor import FINAL_ERRORS
from etl_project.platforms.errors import DailyBudgetExhaustedError, PlatformError, may_have_applied
from etl_project.platforms.fields import parse_instant
from etl_project.platforms.highlevel import HighLevelClient
from etl_project.platforms.sendapp import SendAppClient
from etl_project.platforms.sendowl import SendOwlClient
from etl_project.sync.activities import ActivityOp, marker, welcome_note
from etl_project.sync.config import WelcomeFlow
from etl_project.warehouse.activities import ActivityOutbox, PendingActivity
from etl_project.warehouse.task_pairs import paired_sendapp_tasks


@dataclass
class ActivityReport:
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (flow.operation, status) → rows
    waiting: int = 0  # rows whose contact does not exist yet
    skipped: int = 0  # rows whose contact was deleted on the platform (not brought back)
    found_after_lost_answer: int = 0


@dataclass
class Clients:
    highlevel: HighLevelClient | None = None
    sendapp: SendAppClient | None = None
    sendowl: SendOwlClient | None = None
    channel_token: str | None = None


def _existing(clients: Clients, platform: str, parent: str, row: PendingActivity, paired: set[str]) -> str | None:
    """The note or task an earlier attempt created: found by its marker (SendApp tasks have no body: by title and
    due time, among tasks that are not another task's twin yet)."""
    tag = marker(row.key)
    if platform == "highlevel" and clients.highlevel is not None:
        hl = clients.highlevel
        listed = hl.get_tasks(parent) if row.operation == "create_task" else hl.get_notes(parent)
        return next((str(m.id) for m, raw in listed.valid if tag in str(raw.get("body") or "")), None)
    if platform == "sendapp" and clients.sendapp is not None:
        if row.operation == "create_task":
            due = row.payload.get("due_at")
            wanted = parse_instant(due) if due else None
            for task, _raw in clients.sendapp.get_tasks(int(parent)).valid:
                if str(task.id) not in paired and task.title == row.payload["title"] and task.due_at == wanted:
                    return str(task.id)
            return None
        notes = clients.sendapp.get_notes(int(parent))
        return next((str(m.id) for m, raw in notes.valid if tag in str(raw.get("body") or "")), None)
    return None


def _send(
    clients: Clients, platform: str, row: PendingActivity, parent: str, report: ActivityReport, paired: set[str]
) -> str | None:
    p = row.payload
    if row.operation in ("create_note", "create_task") and row.attempts > 0:
        found = _existing(clients, platform, parent, row, paired)
        if found is not None:
            report.found_after_lost_answer += 1
            return found
    if platform == "highlevel":
        hl = clients.highlevel
        assert hl is not None
        if row.operation == "add_tags":
            hl.add_tags(parent, list(p["tags"]))
            return None
        if row.operation == "create_task":
            return str(hl.create_task(parent, p)["id"])
        if row.operation == "create_note":
            return str(hl.create_note(parent, {"body": p["body"]})["id"])
        if row.operation == "complete_task":  # written by plans made before flow 4 merged task fields
            return str(hl.set_task_completed(p["contact_id"], p["task_id"], True).get("id", p["task_id"]))
        if row.operation == "update_task":
            sets: dict[str, Any] = {k: p[k] for k in ("title", "dueDate", "completed") if k in p}
            if set(sets) == {"completed"}:
                answer = hl.set_task_completed(p["contact_id"], p["task_id"], bool(sets["completed"]))
            else:
                answer = hl.update_task(p["contact_id"], p["task_id"], sets)
            return str(answer.get("id", p["task_id"]))
    if platform == "sendapp":
        sa = clients.sendapp
        assert sa is not None
        if row.operation == "create_task":
            fields = {k: p[k] for k in ("title", "due_at", "status") if p.get(k) is not None}
            return str(sa.create_task(int(parent), fields)["id"])
        if row.operation == "update_task":
            fields = {k: p[k] for k in ("title", "due_at", "status") if k in p}
            return str(sa.update_task(int(p["contact_id"] or parent), int(p["task_id"]), fields)["id"])
        if row.operation == "create_note":
            return str(sa.create_note(int(parent), p["body"])["id"])
        if row.operation == "send_message":
            if not clients.channel_token:
                raise PlatformError("sendapp", "no WhatsApp channel token configured (SENDAPP_CHANNEL_TOKEN)")
            return sa.send_template(clients.channel_token, p["number"], p["template"], p.get("language", "en"))
    if platform == "sendowl" and row.operation == "tag_order":
        assert clients.sendowl is not None
        clients.sendowl.update_order(int(parent), {"tag": p["tag"]})
        return None
    raise PlatformError(platform, f"unsupported activity {row.operation}")


def execute_activities(
    outbox: ActivityOutbox,
    platform: str,
    clients: Clients,
    run_id: str,
    max_attempts: int,
    welcome: WelcomeFlow,
    log: Callable[[str], None] = lambda _: None,
    recreates_deleted: bool = False,
) -> ActivityReport:
    """`recreates_deleted`: the target brings a contact a user deleted back (mirror mode), so its writes wait."""
    report = ActivityReport()
    paired = paired_sendapp_tasks(outbox.warehouse) if platform == "sendapp" else set()
    parents: dict[str, tuple[str | None, bool]] = {}  # contacts are written before activities: stable here
    for row in outbox.pending(platform, max_attempts):
        name = f"{row.flow}.{row.operation}"
        if row.operation == "send_message" and row.status == "sent":
            outbox.result(platform, row, run_id, "unknown", None, error="the answer was lost; not re-sent")
            report.counts[(name, "unknown")] += 1
            continue
        if platform == "sendowl":
            parent: str | None = row.source_ref
        else:
            if row.person_id not in parents:
                parents[row.person_id] = outbox.parent(platform, row.person_id)
            parent, deleted = parents[row.person_id]
            if deleted and not recreates_deleted:
                reason = f"the person's {platform} contact {parent} was deleted there; it is not brought back"
                outbox.result(platform, row, run_id, "skipped", parent, error=reason)
                report.counts[(name, "skipped")] += 1
                report.skipped += 1
                continue
            if deleted:
                parent = None
        if parent is None:
            report.waiting += 1  # the contact is not there yet (e.g. its create failed); retried next run
            continue
        outbox.mark_sent(row.key, run_id, parent)
        try:
            result_id = _send(clients, platform, row, parent, report, paired)
        except DailyBudgetExhaustedError as exc:
            outbox.result(platform, row, run_id, "failed", parent, error=str(exc))
            report.counts[(name, "failed")] += 1
            break
        except PlatformError as exc:
            final = isinstance(exc, FINAL_ERRORS) or row.attempts + 1 >= max_attempts
            error = str(exc)
            if row.operation == "send_message" and may_have_applied(exc):
                # A 5xx, a timeout, a reset or an unreadable 2xx: it may have gone out, and SendApp cannot be asked.
                final, status, error = True, "unknown", f"in doubt, not re-sent: {exc}"
            else:
                # A create that may have been applied is found by its marker before it is sent again (`_send`).
                status = "dead" if final else "failed"
            outbox.result(platform, row, run_id, status, parent, error=error)
            report.counts[(name, status)] += 1
            log(f"{platform}: {name} for {row.person_id} {status}: {exc}")
            continue
        outbox.result(platform, row, run_id, "acknowledged", parent, result_id)
        report.counts[(name, "acknowledged")] += 1
        if platform == "sendapp" and row.operation == "create_task" and result_id:
            paired.add(result_id)
        if row.operation == "send_message" and not _record_welcome(outbox, row, run_id, welcome):
            log(f"sendapp: welcome for {row.person_id} sent; no HighLevel contact to note it on")
    return report


def _record_welcome(outbox: ActivityOutbox, row: PendingActivity, run_id: str, welcome: WelcomeFlow) -> bool:
    """A message SendApp accepted is recorded as a HighLevel note (planned now, written by the HighLevel step).

    Only for a person HighLevel holds: contacts are written before activities, so one who has no HighLevel
    contact now (SendApp-only, HighLevel update-only) never will, and a note planned for them would wait forever.
    The message itself stays in the activity outbox and the sync log either way."""
    if outbox.parent_id("highlevel", row.person_id) is None:
        return False
    message = ActivityOp(row.flow, "sendapp", "send_message", row.person_id, row.source_ref, row.payload, row.key)
    outbox.store([welcome_note(message, welcome)], run_id, dry_run=False)
    return True


def metadata_counts(report: ActivityReport) -> dict[str, Any]:
    out: dict[str, Any] = {f"{name}_{status}": n for (name, status), n in sorted(report.counts.items())}
    out["waiting_for_contact"] = report.waiting
    out["skipped_contact_deleted"] = report.skipped
    out["found_after_lost_answer"] = report.found_after_lost_answer
    return out
