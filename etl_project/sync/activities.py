"""Activity flows (3, 5, 6; flow 4 in `tasks`): what each source event must add on the other platform, exactly once.

Each operation's idempotency key comes from the source event alone (an order id and what happened to it, a note
id, an appointment version, a person's first welcome), so re-runs, backfills and crashes plan the same key and the
outbox holds it once, ever. Records the sync creates carry a short marker with the key, so a create whose answer
was lost can be found on the platform instead of being made twice. Pure: facts in, operations out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from etl_project.sync.config import ActivityFlow, PurchaseFlow, WelcomeFlow

ActivityKind = Literal["add_tags", "create_task", "create_note", "send_message", "tag_order", "update_task"]


@dataclass(frozen=True)
class ActivityOp:
    flow: str
    platform: str  # where it is written
    operation: ActivityKind
    person_id: str
    source_ref: str  # the source record it comes from (order id, note id, appointment id, person id)
    payload: Mapping[str, Any]
    key: str = ""


@dataclass(frozen=True)
class OrderFacts:
    order_id: str
    person_id: str
    state: str
    refunded: bool
    products: Sequence[str]
    amount: Decimal | None
    currency: str | None
    created_at: datetime
    tag: str | None = None  # the order's current `tag`
    highlevel_id: str | None = None  # the buyer's HighLevel contact, when linked


@dataclass(frozen=True)
class NoteFacts:
    note_id: str
    person_id: str
    body: str
    added_at: datetime | None


@dataclass(frozen=True)
class AppointmentFacts:
    appointment_id: str
    person_id: str
    title: str
    status: str
    start_time: datetime | None


@dataclass(frozen=True)
class WelcomeFacts:
    person_id: str
    phone: str  # E.164


def activity_key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def marker(key: str) -> str:
    """Appended to every note and task body the sync creates: finds it again after a lost response."""
    return f"[sync {key[:12]}]"


def make_op(
    flow: str, platform: str, kind: ActivityKind, person: str, ref: str, payload: dict[str, Any], *key: object
) -> ActivityOp:
    k = activity_key(flow, kind, ref, *key)
    if kind in ("create_note", "create_task"):
        payload = {**payload, "body": f"{payload.get('body', '')}\n{marker(k)}".strip()}
    return ActivityOp(flow, platform, kind, person, ref, payload, k)


def purchase_ops(orders: Iterable[OrderFacts], config: PurchaseFlow) -> list[ActivityOp]:
    """Flow 3: per completed order, tags + one follow-up task + one summary note on HighLevel; per refund or
    chargeback, a note and a tag; and the order's `tag` set to the buyer's HighLevel contact id."""
    ops: list[ActivityOp] = []
    flow = "sendowl_purchases_to_highlevel"
    for o in sorted(orders, key=lambda o: o.order_id):
        products = ", ".join(o.products) or "(no product)"
        amount = f"{o.amount} {o.currency or ''}".strip() if o.amount is not None else "free"
        if o.state in config.states:
            tags = [config.customer_tag, *(config.product_tag.format(product=p) for p in o.products)]
            ops.append(make_op(flow, "highlevel", "add_tags", o.person_id, o.order_id, {"tags": tags}, "sale"))
            title = config.task_title.format(order_id=o.order_id, products=products)
            due = (o.created_at + timedelta(days=config.task_due_days)).isoformat()
            task = {"title": title, "body": f"Bought {products} ({amount}).", "dueDate": due, "completed": False}
            ops.append(make_op(flow, "highlevel", "create_task", o.person_id, o.order_id, task, "sale"))
            body = (
                f"SendOwl order {o.order_id} on {o.created_at.date().isoformat()}: {products}; "
                f"{amount}; state {o.state}."
            )
            ops.append(make_op(flow, "highlevel", "create_note", o.person_id, o.order_id, {"body": body}, "sale"))
        for event, happened, tag in (
            ("refund", o.refunded, config.refund_tag),
            ("chargeback", o.state == "chargeback", config.chargeback_tag),
        ):
            if happened:
                note = {"body": f"SendOwl order {o.order_id} ({products}, {amount}): {event}."}
                ops.append(make_op(flow, "highlevel", "create_note", o.person_id, o.order_id, note, event))
                ops.append(make_op(flow, "highlevel", "add_tags", o.person_id, o.order_id, {"tags": [tag]}, event))
        if config.tag_orders and o.highlevel_id and o.tag != o.highlevel_id:
            payload = {"tag": o.highlevel_id}
            ops.append(make_op(flow, "sendowl", "tag_order", o.person_id, o.order_id, payload, o.highlevel_id))
    return ops


def note_ops(notes: Iterable[NoteFacts], config: ActivityFlow) -> list[ActivityOp]:
    """Flow 5: each HighLevel note copied once to the person's SendApp contact."""
    flow = "highlevel_activity_to_sendapp"
    ops = []
    for n in sorted(notes, key=lambda n: n.note_id):
        added = n.added_at.isoformat() if n.added_at else ""
        body = config.note_format.format(body=n.body, added_at=added)
        ops.append(make_op(flow, "sendapp", "create_note", n.person_id, n.note_id, {"body": body}))
    return ops


def appointment_ops(appointments: Iterable[AppointmentFacts], config: ActivityFlow) -> list[ActivityOp]:
    """Flow 5: each appointment logged on the SendApp contact; a new entry whenever its time or status changes."""
    flow = "highlevel_activity_to_sendapp"
    ops = []
    for a in sorted(appointments, key=lambda a: a.appointment_id):
        when = a.start_time.isoformat() if a.start_time else "no time set"
        body = config.appointment_format.format(title=a.title, start=when, status=a.status)
        payload = {"body": body}
        ops.append(make_op(flow, "sendapp", "create_note", a.person_id, a.appointment_id, payload, when, a.status))
    return ops


def welcome_ops(people: Iterable[WelcomeFacts], config: WelcomeFlow) -> list[ActivityOp]:
    """Flow 6: one template message per person, ever (the key is the person's alone)."""
    flow = "welcome_message"
    return [
        make_op(
            flow,
            "sendapp",
            "send_message",
            p.person_id,
            p.person_id,
            {"number": p.phone.lstrip("+"), "template": config.template, "language": config.language},
        )
        for p in sorted(people, key=lambda p: p.person_id)
    ]


def welcome_note(message: ActivityOp, config: WelcomeFlow) -> ActivityOp:
    """The HighLevel note recording a welcome message that SendApp accepted."""
    body = config.note.format(template=config.template)
    person, ref = message.person_id, message.source_ref
    return make_op(message.flow, "highlevel", "create_note", person, ref, {"body": body}, "note")
