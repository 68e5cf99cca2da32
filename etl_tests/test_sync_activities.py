"""Activity planning on literals: one key per source event, stable across runs, new only when the event is new."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from etl_project.sync.activities import (
    AppointmentFacts,
    OrderFacts,
    WelcomeFacts,
    appointment_ops,
    marker,
    purchase_ops,
    welcome_note,
    welcome_ops,
)
from etl_project.sync.config import PurchaseFlow, WelcomeFlow

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
SALE = OrderFacts("501", "p1", "complete", False, ["Course A"], Decimal("49.00"), "USD", AT, "", "hl-1")


def test_a_sale_tags_tasks_notes_and_tags_the_order_once() -> None:
    ops = purchase_ops([SALE], PurchaseFlow())
    assert [(o.platform, o.operation) for o in ops] == [
        ("highlevel", "add_tags"),
        ("highlevel", "create_task"),
        ("highlevel", "create_note"),
        ("sendowl", "tag_order"),
    ]
    assert ops[0].payload["tags"] == ["sendowl-customer", "bought:Course A"]
    assert ops[1].payload["dueDate"].startswith("2026-11-05") and marker(ops[1].key) in ops[1].payload["body"]
    assert "49.00 USD" in ops[2].payload["body"]
    assert [o.key for o in purchase_ops([SALE], PurchaseFlow())] == [o.key for o in ops], "stable across runs"
    tagged = OrderFacts(**{**SALE.__dict__, "tag": "hl-1"})
    assert "tag_order" not in [o.operation for o in purchase_ops([tagged], PurchaseFlow())]


def test_a_refund_adds_a_note_and_a_tag_without_repeating_the_sale() -> None:
    refunded = OrderFacts(**{**SALE.__dict__, "refunded": True})
    sale_keys = {o.key for o in purchase_ops([SALE], PurchaseFlow())}
    ops = purchase_ops([refunded], PurchaseFlow())
    new = [o for o in ops if o.key not in sale_keys]
    assert [(o.operation, o.payload.get("tags")) for o in new] == [
        ("create_note", None),
        ("add_tags", ["sendowl-refunded"]),
    ]
    unpaid = OrderFacts(**{**SALE.__dict__, "state": "payment_pending", "tag": "hl-1"})
    assert purchase_ops([unpaid], PurchaseFlow()) == []


def test_appointments_log_each_version_and_welcomes_are_once_per_person() -> None:
    booked = AppointmentFacts("ap1", "p1", "Intro call", "booked", AT)
    moved = AppointmentFacts("ap1", "p1", "Intro call", "confirmed", AT)
    assert appointment_ops([booked])[0].key == appointment_ops([booked])[0].key
    assert appointment_ops([booked])[0].key != appointment_ops([moved])[0].key
    (message,) = welcome_ops([WelcomeFacts("p1", "+14155550142")], WelcomeFlow())
    assert message.payload == {"number": "14155550142", "template": "welcome", "language": "en"}
    assert welcome_ops([WelcomeFacts("p1", "+14155550199")], WelcomeFlow())[0].key == message.key, "once per person"
    note = welcome_note(message, WelcomeFlow())
    assert note.platform == "highlevel" and "welcome" in note.payload["body"]
