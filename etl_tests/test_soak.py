"""The acceptance soak of issue #13, short: twelve simulated hours (15:00 to 03:00, through the nightly run) of
what the daemon drives (schedules, the sync sensor, the alert sensors) with user activity, faults, a UI backfill
and a flow switched on mid-way (see `etl_tests/soak.py`; `make soak` runs the full 14 days).

One test, so that parallel workers never run the soak twice; it checks every expectation and names each one that
failed, with the soak's report."""

from __future__ import annotations

import pytest

from etl_tests.soak import SoakOptions, run_soak

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.timeout(1800)  # ~35 Dagster runs: minutes on a loaded machine
def test_twelve_unattended_hours_meet_every_expectation() -> None:
    report = run_soak(SoakOptions(days=0, hours=12, seed=3, contacts=20, fault_share=0.3))
    runs = report.soak_runs
    onboarding = [r for r in report.runs if r.kind == "onboarding"]
    checks = [
        *report.expectations(),
        ("an extraction and a sync every hour", len(runs) >= 2 * 12),
        ("the nightly reconciliation ran", any(r.kind == "nightly" for r in runs)),
        ("faults were injected", any(r.fault for r in runs)),
        ("onboarding is one backfill, requested by the sensor", report.onboarding_runs == 1),
        ("onboarding runs the extract job first, and succeeds", [r.job for r in onboarding][:1] == ["extract_job"]),
        ("every onboarding run succeeds", all(r.success for r in onboarding)),
        ("the UI backfill succeeds", any(r.kind == "backfill" and r.success for r in runs)),
        # Flow 3 tags every past buyer; flow 1 then copies the tags to SendApp: blocked once, approved once.
        ("switching flow 3 on needs exactly one approval", len(report.approvals) == 1),
        ("the approved run succeeds", all(r.success for r in runs if r.kind == "approval")),
        ("the duplicate census ran", bool(report.duplicates)),
    ]
    failed = [name for name, ok in checks if not ok]
    assert failed == [], "\n".join(failed) + "\n\n" + report.summary()
