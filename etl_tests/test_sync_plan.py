"""Diff planning on literals: only true differences become operations, with stable idempotency keys."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from etl_project.sync.config import TargetConfig
from etl_project.sync.plan import TargetState, expected_after, plan_target

FIELDS = {"email": "email", "phone": "number", "first_name": "first_name", "tags": "tags"}
UPSERT = TargetConfig(mode="upsert", fields=FIELDS)
GOLDEN = {
    "p1": {"email": "ann@x.io", "phone": "+12122010020", "first_name": "Ann", "tags": frozenset({"vip", "a"})},
    "p2": {"email": "bob@x.io", "phone": "+12122010021", "first_name": "Bob"},
    "p3": {"first_name": "No keys"},
    "p4": {"email": "no-phone@x.io"},
}
T0 = datetime(2026, 11, 1, tzinfo=UTC)
SAME = {
    "p1": {"email": "ann@x.io", "phone": "+12122010020", "first_name": "Ann", "tags": frozenset({"a", "vip"})},
    "p2": {"email": "bob@x.io", "phone": "+12122010021", "first_name": "Bob"},
}


def linked(acked: dict[str, dict[str, object]], observed: dict[str, dict[str, object]], **kw: object) -> dict:
    return {
        p: TargetState(
            target_id=str(70 + i),
            acked=acked.get(p, {}),
            observed=observed.get(p),
            observed_version=T0,
            **kw,  # type: ignore[arg-type]
        )
        for i, p in enumerate(["p1", "p2"])
    }


def test_unlinked_people_are_created_in_the_platforms_format() -> None:
    ops = plan_target("sendapp", UPSERT, GOLDEN, {})
    assert [(o.kind, o.person_id) for o in ops] == [("create", "p1"), ("create", "p2")], "SendApp needs a number"
    assert ops[0].payload == {"email": "ann@x.io", "number": "12122010020", "first_name": "Ann", "tags": ["a", "vip"]}
    assert [o.person_id for o in plan_target("highlevel", UPSERT, GOLDEN, {})] == ["p1", "p2", "p4"]


def test_only_real_differences_are_updated_and_nothing_echoes() -> None:
    assert plan_target("sendapp", UPSERT, GOLDEN, linked(SAME, SAME)) == []
    observed = {**SAME, "p2": {"email": "bob@x.io", "phone": "+12122010021", "first_name": "Robert"}}
    ops = plan_target("sendapp", UPSERT, GOLDEN, linked({}, observed))
    assert [(o.kind, o.person_id, dict(o.fields)) for o in ops] == [("update", "p2", {"first_name": "Bob"})]


def test_the_freshest_view_of_the_target_decides() -> None:
    stale = {**SAME, "p2": {"email": "bob@x.io", "phone": "+12122010021", "first_name": "Robert"}}
    # The sync already wrote "Bob" (acknowledged after the last extraction): nothing to write again.
    states = {p: TargetState("7" + p, SAME[p], T0 + timedelta(minutes=1), stale[p], T0) for p in SAME}
    assert plan_target("sendapp", UPSERT, GOLDEN, states) == []
    # A user changed it back on the target after that write: the newer extraction wins, and the same values
    # planned against a newer version are a new operation (a new key).
    states_later = {p: TargetState("7" + p, SAME[p], T0, stale[p], T0 + timedelta(minutes=2)) for p in SAME}
    (op,) = plan_target("sendapp", UPSERT, GOLDEN, states_later)
    states_much_later = {p: TargetState("7" + p, SAME[p], T0, stale[p], T0 + timedelta(minutes=9)) for p in SAME}
    (op2,) = plan_target("sendapp", UPSERT, GOLDEN, states_much_later)
    assert op.fields == op2.fields == {"first_name": "Bob"} and op.idempotency_key != op2.idempotency_key


def test_modes_deletes_and_stable_keys() -> None:
    update_only = TargetConfig(mode="update_only", fields=FIELDS)
    assert plan_target("highlevel", update_only, GOLDEN, {}) == []
    insert_only = TargetConfig(mode="insert_only", fields=FIELDS)
    assert plan_target("sendapp", insert_only, GOLDEN, linked({}, {})) == []
    first = plan_target("sendapp", UPSERT, GOLDEN, {})
    again = plan_target("sendapp", UPSERT, dict(reversed(list(GOLDEN.items()))), {})
    assert [o.idempotency_key for o in first] == [o.idempotency_key for o in again]
    renamed = {**GOLDEN, "p2": {**GOLDEN["p2"], "first_name": "Rob"}}
    assert plan_target("sendapp", UPSERT, renamed, {})[1].idempotency_key != first[1].idempotency_key

    gone = linked(SAME, SAME, upstream_deleted=True)
    assert plan_target("sendapp", UPSERT, GOLDEN, gone) == [], "deletes = ignore"
    deleting = TargetConfig(mode="upsert", deletes="delete", fields=FIELDS)
    assert [o.kind for o in plan_target("sendapp", deleting, GOLDEN, gone)] == ["delete", "delete"]
    clearing = TargetConfig(mode="upsert", deletes="clear", fields=FIELDS)
    cleared = plan_target("sendapp", clearing, GOLDEN, gone)
    assert cleared[0].payload == {"first_name": None, "tags": []}, "match keys stay; managed fields are emptied"
    removed = linked(SAME, {}, target_deleted=True)
    assert plan_target("sendapp", UPSERT, GOLDEN, removed) == [], "a record the user deleted is not brought back"
    mirror = TargetConfig(mode="mirror", fields=FIELDS)
    assert [o.kind for o in plan_target("sendapp", mirror, GOLDEN, removed)] == ["create", "create"]


def test_custom_fields_are_written_alongside() -> None:
    target = TargetConfig(fields={"email": "email", "phone": "phone"}, custom_fields={"phone": "cf_whatsapp"})
    (op,) = plan_target("highlevel", target, {"p1": {"email": "a@x.io", "phone": "+12125550100"}}, {})
    assert op.payload["customFields"] == [{"id": "cf_whatsapp", "field_value": "+12125550100"}]


def test_expected_after_is_the_freshest_known_record_with_the_operation_applied() -> None:
    newer = {"email": "ann@x.io", "first_name": "Annie", "tags": frozenset({"vip"})}
    acked = {"email": "old@x.io", "first_name": "Ann"}
    state = TargetState("70", acked, acked_version=T0, observed=newer, observed_version=T0 + timedelta(hours=1))
    (update,) = plan_target(
        "sendapp", UPSERT, {"p1": {**newer, "first_name": "Ann", "tags": frozenset()}}, {"p1": state}
    )
    assert dict(update.fields) == {"first_name": "Ann"}, "an empty golden tag set is not written"
    assert expected_after(update, state) == {"email": "ann@x.io", "first_name": "Ann", "tags": ["vip"]}
    stale = replace(state, observed_version=T0 - timedelta(hours=1))  # the acknowledged write is newer
    assert expected_after(update, stale) == {"email": "old@x.io", "first_name": "Ann"}
    (create,) = plan_target("sendapp", UPSERT, {"p2": GOLDEN["p2"]}, {})
    assert expected_after(create, TargetState()) == {"email": "bob@x.io", "phone": "+12122010021", "first_name": "Bob"}
    cleared = replace(create, fields={"first_name": None, "tags": frozenset()})  # `deletes = "clear"` empties fields
    assert expected_after(cleared, state) == {"email": "ann@x.io"}, "an emptied field leaves the expected record"
