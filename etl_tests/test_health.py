"""The health judgements behind the checks that run with every sync, on literals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from etl_project.alerting import health
from etl_project.alerting.policy import decide
from etl_project.sync.config import Thresholds

T = Thresholds(max_quarantine_share=0.05, max_extract_age_hours=6)
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def test_quarantine_share_warns_above_the_threshold_per_extract() -> None:
    fine = health.quarantine_shares([("highlevel", "contacts", 95, 5), ("sendowl", "orders", 0, 0)], T)
    assert fine.passed and fine.details["highlevel.contacts"] == 0.05
    over = health.quarantine_shares([("highlevel", "contacts", 95, 5), ("sendapp", "contacts", 9, 1)], T)
    assert not over.passed and "sendapp contacts: 1 of 10 quarantined (10%)" in over.message
    assert "highlevel" not in over.message


def test_freshness_fails_when_a_live_window_is_old() -> None:
    rows = [("highlevel", "contacts", NOW - timedelta(hours=1), NOW), ("sendowl", "products", None, NOW)]
    assert health.freshness(rows, NOW, T).passed
    stale = health.freshness([*rows, ("sendapp", "contacts", NOW - timedelta(hours=7), NOW)], NOW, T)
    assert not stale.passed and "sendapp contacts" in stale.message and "7.0 h" in stale.message
    assert not health.freshness([], NOW, T).passed
    stalled = health.freshness([("highlevel", "contacts", NOW - timedelta(hours=7), NOW)], NOW, T)
    assert not stalled.passed, "a backfill finishing now does not hide a live extraction that stopped"


def test_conflicts_and_dead_writes_are_listed() -> None:
    assert health.identity_conflicts([]).passed
    conflict = health.identity_conflicts([("sendapp", "17", "phone matches 2 people")])
    assert not conflict.passed and "sendapp 17: phone matches 2 people" in conflict.message
    dead = health.dead_writes([("activities", "sendapp", "update_task", "p1", "404 not found", NOW)])
    assert not dead.passed and dead.details["dead"] == 1 and "update_task for p1: 404" in dead.message


def test_only_repeated_transient_faults_page_a_person() -> None:
    assert not decide(["ServerError"], previous_failed=False).alert
    assert decide(["ServerError", "PlatformTransportError"], previous_failed=True).alert
    assert decide(["AuthenticationError"], previous_failed=False).alert
    assert decide(["ServerError", "KeyError"], previous_failed=False).alert, "a bug beside a fault is still a bug"
    assert decide([], previous_failed=False).alert, "a run that died without a step failure needs a look"
