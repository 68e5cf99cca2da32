"""Activity planning on literals: one key per source event, stable across runs, new only when the event is new."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from etl_project.sync.activities import (
    AppointmentFacts,
    NoteFacts,
    OrderFacts,
    WelcomeFacts,
    appointment_ops,
    marker,
    note_ops,
    purchase_ops,
    welcome_note,
    welcome_ops,
)
from etl_project.sync.config import ActivityFlow, ConfigError, PurchaseFlow, WelcomeFlow, parse_config

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
    log = ActivityFlow()
    assert appointment_ops([booked], log)[0].key == appointment_ops([booked], log)[0].key
    assert appointment_ops([booked], log)[0].key != appointment_ops([moved], log)[0].key
    (message,) = welcome_ops([WelcomeFacts("p1", "+14155550142")], WelcomeFlow())
    assert message.payload == {"number": "14155550142", "template": "welcome", "language": "en"}
    assert welcome_ops([WelcomeFacts("p1", "+14155550199")], WelcomeFlow())[0].key == message.key, "once per person"
    note = welcome_note(message, WelcomeFlow())
    assert note.platform == "highlevel" and "welcome" in note.payload["body"]


def test_notes_and_appointments_follow_the_configured_formats() -> None:
    log = ActivityFlow(note_format="[HL {added_at}] {body}", appointment_format="{status}: {title} ({start})")
    (note,) = note_ops([NoteFacts("n1", "p1", "Called back", AT)], log)
    assert note.payload["body"].startswith("[HL 2026-11-02T09:30:00+00:00] Called back\n[sync ")
    (booked,) = appointment_ops([AppointmentFacts("ap1", "p1", "Intro call", "booked", AT)], log)
    assert booked.payload["body"].startswith("booked: Intro call (2026-11-02T09:30:00+00:00)")
    assert note_ops([NoteFacts("n1", "p1", "Called back", AT)], ActivityFlow())[0].key == note.key, "format-free key"


def test_a_template_naming_an_unknown_placeholder_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"activity\.note_format.*unknown placeholder\(s\) \['bdy'\]"):
        parse_config('[activity]\nnote_format = "HighLevel: {bdy}"')
    with pytest.raises(ConfigError, match=r"purchases.*task_title"):
        parse_config('[purchases]\ntask_title = "Order {order}"')
    with pytest.raises(ConfigError, match=r"welcome.*note"):
        parse_config('[welcome]\nnote = "sent {"')
    with pytest.raises(ConfigError, match=r"tasks\.merge\.title"):
        parse_config('[tasks.merge]\ntitle = "newest"')
