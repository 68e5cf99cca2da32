"""The write guards on literals: mass-change shares, the real-write opt-in, a sync-written value in LWW, and what
a write run's outcome tells the person watching."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from etl_project.load.executor import ExecutionReport
from etl_project.load.outcome import blocked_outcome, writes_outcome
from etl_project.load.safety import is_sandbox_url, judge_mass_change, real_write_refusal
from etl_project.sync.config import Thresholds, load_config
from etl_project.sync.reconcile import Version, reconcile
from etl_project.warehouse.approvals import PendingChanges

T = Thresholds(max_update_share=0.25, max_delete_share=0.05, min_records_for_share=20)


def _changes(updates: int, deletes: int, records: int, fields: tuple[str, ...] = ("tags",)) -> PendingChanges:
    return PendingChanges([frozenset(fields)] * updates, [f"d{i}" for i in range(deletes)], records)


def test_mass_change_shares() -> None:
    assert judge_mass_change(_changes(25, 0, 100), T).passed
    stopped = judge_mass_change(_changes(26, 0, 100), T)
    assert not stopped.passed and "max_update_share" in stopped.message and stopped.details["update_share"] == 0.26
    assert "tags (26)" in stopped.message and stopped.approvable == ("update:tags",)
    assert not judge_mass_change(_changes(0, 6, 100), T).passed
    assert judge_mass_change(_changes(19, 19, 19), T).passed, "below min_records_for_share the shares do not apply"


def test_an_approved_cause_is_not_asked_again_but_another_is() -> None:
    approved = {"update:tags"}
    assert judge_mass_change(_changes(60, 0, 100), T, approved).passed, "the same cause: approved once, for good"
    mixed = PendingChanges([frozenset({"tags"})] * 60 + [frozenset({"first_name", "tags"})] * 30, [], 100)
    stopped = judge_mass_change(mixed, T, approved)
    assert not stopped.passed and stopped.details["unapproved"] == 30, "a new field is a new cause"
    assert stopped.approvable == ("update:first_name", "update:tags")
    deletes = judge_mass_change(_changes(0, 6, 100), T)
    assert not judge_mass_change(_changes(0, 6, 100), T, approved).passed
    assert judge_mass_change(_changes(0, 6, 100), T, set(deletes.approvable)).passed, "that batch of deletes only"
    other_batch = PendingChanges([], [f"e{i}" for i in range(6)], 100)
    assert not judge_mass_change(other_batch, T, set(deletes.approvable)).passed


def test_real_writes_need_the_opt_in() -> None:
    assert is_sandbox_url("http://127.0.0.1:8101") and is_sandbox_url("http://localhost:8103/api")
    assert not is_sandbox_url("https://services.leadconnectorhq.com")
    refusal = real_write_refusal("sendapp", "https://app.sendapp.ai/api", allow_real_writes=False)
    assert refusal is not None and "allow_real_writes" in refusal and "app.sendapp.ai" in refusal
    assert real_write_refusal("sendapp", "https://app.sendapp.ai/api", allow_real_writes=True) is None
    assert real_write_refusal("sendapp", "http://127.0.0.1:8103/api", allow_real_writes=False) is None


def test_a_value_the_sync_wrote_never_beats_a_users_edit() -> None:
    """HighLevel's user typed "Hana" at 10:00; before that was extracted, the sync wrote the older "Ann" to
    SendApp at 10:01. The sync's own write must not win last-writer-wins (that would be an echo)."""
    at = lambda h, m: datetime(2026, 11, 2, h, m, tzinfo=UTC)  # noqa: E731
    versions = [
        Version("highlevel", "h1", {"email": "a@x.io", "firstName": "Ann", "dateUpdated": "x"}, at(9, 0)),
        Version("highlevel", "h1", {"email": "a@x.io", "firstName": "Hana", "dateUpdated": "x"}, at(10, 0)),
        Version("sendapp", "7", {"email": "a@x.io", "number": "12125550100", "first_name": "Ann"}, at(10, 1)),
    ]
    config = load_config()
    plain = reconcile(versions, {}, config)
    (person,) = plain.golden
    assert plain.golden[person]["first_name"].value == "Ann", "without the snapshot, SendApp looks like the last writer"
    written = {("sendapp", person): {"first_name": ("Ann", at(10, 1))}}
    aware = reconcile(versions, {}, config, written)
    assert aware.golden[person]["first_name"].value == "Hana"


def test_approving_updates_never_waves_deletes_through_and_allow_stores_nothing(monkeypatch: Any) -> None:
    from etl_project.load import guard
    from etl_project.sync.config import load_config
    from etl_project.warehouse import approvals

    stored: list[tuple[str, ...]] = []
    plan = PendingChanges([frozenset({"tags"})] * 40, [f"d{i}" for i in range(60)], 100)
    monkeypatch.setattr(approvals, "pending_changes", lambda _w, _p: plan)
    monkeypatch.setattr(approvals, "approved_causes", lambda _w, _p, _c: {c for batch in stored for c in batch})
    monkeypatch.setattr(approvals, "approve", lambda _w, _p, causes, *_a: stored.append(tuple(causes)))
    asked: dict[str, list[str]] = {}
    monkeypatch.setattr(
        approvals, "record_block", lambda _w, _p, approval, causes, *_a: asked.update({approval: list(causes)})
    )
    monkeypatch.setattr(approvals, "blocked_causes", lambda _w, _p, _c: asked)
    config = load_config()
    blocked = guard.mass_change_verdict(None, "sendapp", config, {}, "r1")  # type: ignore[arg-type]
    assert not blocked.passed and blocked.approvable == ("update:tags",)
    approval = blocked.message.split("etl/approve = ")[1].split()[0]
    # The updates approved: the deletes are judged next, and block under their own id.
    deletes = guard.mass_change_verdict(None, "sendapp", config, {"etl/approve": approval}, "r2")  # type: ignore[arg-type]
    assert not deletes.passed and "deletes 60 of 100" in deletes.message and stored == [("update:tags",)]
    # "Allow" lets one run through whatever is blocked, and remembers nothing.
    allowed = guard.mass_change_verdict(None, "sendapp", config, {"etl/allow-mass-change": "true"}, "r3")  # type: ignore[arg-type]
    assert allowed.passed and stored == [("update:tags",)]


def test_an_approval_launched_after_the_plan_moved_on_still_counts(monkeypatch: Any) -> None:
    from etl_project.load import guard
    from etl_project.sync.config import load_config
    from etl_project.warehouse import approvals

    stored: list[tuple[str, ...]] = []
    asked: dict[str, list[str]] = {}
    plan = PendingChanges([frozenset({"tags"})] * 40, [], 100)
    monkeypatch.setattr(approvals, "pending_changes", lambda _w, _p: plan)
    monkeypatch.setattr(approvals, "approved_causes", lambda _w, _p, _c: {c for batch in stored for c in batch})
    monkeypatch.setattr(approvals, "approve", lambda _w, _p, causes, *_a: stored.append(tuple(causes)))
    monkeypatch.setattr(
        approvals, "record_block", lambda _w, _p, approval, causes, *_a: asked.update({approval: list(causes)})
    )
    monkeypatch.setattr(approvals, "blocked_causes", lambda _w, _p, _c: asked)
    config = load_config()
    blocked = guard.mass_change_verdict(None, "sendapp", config, {}, "r1")  # type: ignore[arg-type]
    approval = blocked.message.split("etl/approve = ")[1].split()[0]
    # An hour later a user's edits add a field to the plan: the id shown earlier still approves the tags.
    plan = PendingChanges([frozenset({"tags"})] * 40 + [frozenset({"first_name"})] * 2, [], 100)
    later = guard.mass_change_verdict(None, "sendapp", config, {"etl/approve": approval}, "r2")  # type: ignore[arg-type]
    assert later.passed and stored == [("update:tags",)]


def test_a_write_run_is_an_error_only_when_nothing_got_through() -> None:
    def run(stopped: str | None = None, refused: bool = False, **counts: int) -> tuple[bool, str]:
        tally = Counter({("update", status): n for status, n in counts.items()})
        outcome = writes_outcome(ExecutionReport(tally, stopped=stopped, credentials_refused=refused))
        return outcome.passed, outcome.severity

    assert run(acknowledged=5) == (True, "ERROR")
    assert run(acknowledged=5, dead=1) == (False, "WARN"), "one refused record is a warning"
    assert run(failed=2) == (False, "WARN"), "transient failures are retried by the next run"
    assert run(dead=3) == (False, "ERROR"), "every write refused: the platform refuses, not one record"
    assert run(dead=2) == (False, "WARN")
    assert run(refused=True, acknowledged=1) == (False, "ERROR")
    assert run("daily budget spent", acknowledged=1) == (False, "WARN"), "the next day's runs carry on"
    assert run("daily budget spent") == (False, "ERROR")
    blocked = blocked_outcome("sendapp: blocked")
    assert (blocked.passed, blocked.severity, blocked.description) == (False, "WARN", "sendapp: blocked")
