"""Flow 4's three-way merge on literals: one side's change is copied to the other (completing and reopening alike),
both sides' changes go by the policy, agreements move the base, and keys are stable per state."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from etl_project.sync.config import TaskFlow
from etl_project.sync.tasks import TaskFacts, TaskSide, merge_task, task_agreements, task_ops, unextracted_write

EARLY, LATE = datetime(2026, 11, 2, 9, tzinfo=UTC), datetime(2026, 11, 2, 10, tzinfo=UTC)
BASE = TaskSide("Call back", "2026-11-05T09:00:00Z", False)
PAIR = TaskFacts("t1", "p1", "c1", BASE, EARLY, "77", "9", BASE, EARLY, BASE, 3)


def ops(t: TaskFacts, config: TaskFlow | None = None) -> list[tuple[str, dict[str, object]]]:
    return [(o.platform, dict(o.payload["sets"])) for o in task_ops([t], config or TaskFlow())]


def test_a_task_without_a_twin_gets_one_and_an_agreed_pair_gets_nothing() -> None:
    lone = TaskFacts("t2", "p1", "c1", TaskSide("", None, True))
    (create,) = task_ops([lone], TaskFlow())
    assert (create.platform, create.operation) == ("sendapp", "create_task")
    assert {k: create.payload[k] for k in ("title", "due_at", "status")} == {
        "title": "(untitled task)",
        "due_at": None,
        "status": "done",
    }
    assert task_ops([lone], TaskFlow())[0].key == create.key, "one twin per task, ever"
    assert task_ops([PAIR], TaskFlow()) == [] and task_agreements([PAIR], TaskFlow()) == []
    assert task_ops([replace(PAIR, sendapp=None)], TaskFlow()) == [], "a twin not extracted yet is left alone"


def test_completing_or_reopening_either_side_does_the_same_on_the_other() -> None:
    done = replace(BASE, done=True)
    assert ops(replace(PAIR, highlevel=done)) == [("sendapp", {"status": True})]
    assert ops(replace(PAIR, sendapp=done)) == [("highlevel", {"status": True})]
    agreed_done = replace(PAIR, highlevel=done, sendapp=done, base=done)
    assert ops(replace(agreed_done, highlevel=BASE)) == [("sendapp", {"status": False})], "reopened in HighLevel"
    assert ops(replace(agreed_done, sendapp=BASE)) == [("highlevel", {"status": False})], "reopened in SendApp"
    (reopen,) = task_ops([replace(agreed_done, sendapp=BASE)], TaskFlow())
    assert reopen.payload["completed"] is False and reopen.payload["task_id"] == "t1"


def test_edits_on_both_sides_go_by_the_policy() -> None:
    both = replace(PAIR, highlevel=replace(BASE, title="Call Ann"), sendapp=replace(BASE, title="Ring Ann"))
    assert ops(both) == [("sendapp", {"title": "Call Ann"})], "HighLevel's change is later (a tie goes to it)"
    assert ops(replace(both, sendapp_changed_at=LATE)) == [("highlevel", {"title": "Ring Ann"})], "SendApp's is later"
    hub = TaskFlow(merge={"title": "highlevel"})
    assert ops(replace(both, sendapp_changed_at=LATE), hub) == [("sendapp", {"title": "Call Ann"})]
    moved = replace(both, highlevel=replace(both.highlevel, due="2026-11-06T09:00:00Z"))
    assert ops(moved, TaskFlow(fields=("due",))) == [("sendapp", {"due": "2026-11-06T09:00:00Z"})], "title unmapped"
    (write,) = task_ops([moved], TaskFlow(fields=("due",)))
    assert write.payload["due_at"] == "2026-11-06T09:00:00Z" and "title" not in write.payload


def test_an_agreement_moves_the_base_and_each_generation_keys_its_own_writes() -> None:
    renamed = replace(BASE, title="Call Ann")
    same = replace(PAIR, highlevel=renamed, sendapp=renamed)
    assert ops(same) == [] and merge_task(same, TaskFlow()).agreed == renamed
    changed = replace(PAIR, highlevel=replace(BASE, done=True))
    assert task_ops([changed], TaskFlow())[0].key == task_ops([changed], TaskFlow())[0].key, "stable per state"
    later = replace(changed, generation=4)
    assert task_ops([later], TaskFlow())[0].key != task_ops([changed], TaskFlow())[0].key, "done again later: new"


def test_a_title_or_due_date_cleared_in_sendapp_is_not_sent_to_highlevel_which_requires_both() -> None:
    cleared = replace(PAIR, sendapp=replace(BASE, title="", due=None, done=True))
    assert ops(cleared) == [("highlevel", {"status": True})]


def test_a_side_written_since_its_last_extraction_holds_what_was_written() -> None:
    wrote = {"status": True}
    assert unextracted_write(wrote, LATE, EARLY) == wrote, "extracted before the write: the write is what it holds"
    assert unextracted_write(wrote, EARLY, LATE) == {}, "extracted since: the extraction is the truth"
    assert unextracted_write(wrote, LATE, None) == wrote, "never extracted"
    assert unextracted_write(None, None, EARLY) == {}
    assert BASE.with_values(unextracted_write(wrote, LATE, EARLY)).done
