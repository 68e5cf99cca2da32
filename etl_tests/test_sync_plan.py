"""Diff planning on literals: only true differences become operations, with stable idempotency keys."""

from __future__ import annotations

from etl_project.sync.config import TargetConfig
from etl_project.sync.plan import plan_target

FIELDS = {"email": "email", "phone": "number", "first_name": "first_name", "tags": "tags"}
UPSERT = TargetConfig(mode="upsert", fields=FIELDS)
GOLDEN = {
    "p1": {"email": "ann@x.io", "phone": "+12122010020", "first_name": "Ann", "tags": frozenset({"vip", "a"})},
    "p2": {"email": "bob@x.io", "first_name": "Bob"},
    "p3": {"first_name": "No keys"},
}


def test_unlinked_people_are_created_in_the_platforms_format() -> None:
    ops = plan_target("sendapp", UPSERT, GOLDEN, {}, {}, {})
    assert [(o.kind, o.person_id) for o in ops] == [("create", "p1"), ("create", "p2")], "p3 has no match key"
    assert ops[0].payload == {"email": "ann@x.io", "number": "12122010020", "first_name": "Ann", "tags": ["a", "vip"]}


def test_only_real_differences_are_updated_and_nothing_echoes() -> None:
    linked = {"p1": "77", "p2": "78"}
    same = {
        "p1": {"email": "ann@x.io", "phone": "+12122010020", "first_name": "Ann", "tags": frozenset({"a", "vip"})},
        "p2": {"email": "bob@x.io", "first_name": "Bob"},
    }
    assert plan_target("sendapp", UPSERT, GOLDEN, linked, same, same) == []
    acked_old = {"p2": {"email": "bob@x.io", "first_name": "Robert"}}
    ops = plan_target("sendapp", UPSERT, GOLDEN, linked, acked_old, {**same, "p2": {"email": "bob@x.io"}})
    assert [(o.kind, o.person_id, dict(o.fields)) for o in ops] == [("update", "p2", {"first_name": "Bob"})]
    # The target already shows the value (a user typed it there): no write back, whatever the snapshot says.
    assert plan_target("sendapp", UPSERT, GOLDEN, linked, acked_old, same) == []


def test_modes_and_stable_keys() -> None:
    update_only = TargetConfig(mode="update_only", fields=FIELDS)
    assert plan_target("highlevel", update_only, GOLDEN, {}, {}, {}) == []
    insert_only = TargetConfig(mode="insert_only", fields=FIELDS)
    assert plan_target("sendapp", insert_only, GOLDEN, {"p1": "77", "p2": "78"}, {}, {}) == []
    first = plan_target("sendapp", UPSERT, GOLDEN, {}, {}, {})
    again = plan_target("sendapp", UPSERT, dict(reversed(list(GOLDEN.items()))), {}, {}, {})
    assert [o.idempotency_key for o in first] == [o.idempotency_key for o in again]
    changed = plan_target("sendapp", UPSERT, {**GOLDEN, "p2": {"email": "bob@x.io", "first_name": "Rob"}}, {}, {}, {})
    assert changed[1].idempotency_key != first[1].idempotency_key
