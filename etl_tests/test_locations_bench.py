"""The many-locations benchmark's plumbing end to end, tiny and with limits off: a sandbox process with two
locations, each location's extraction and sync as run processes of their own, the sandbox's per-location stats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parent.parent


def test_two_locations_backfill_in_run_processes() -> None:
    cmd = [sys.executable, str(ROOT / "bench" / "locations_bench.py"), "--locations", "2", "--contacts", "20"]
    cmd += ["--cycles", "backfill:off", "--concurrency", "2", "--fixed-samples", "0", "--no-record"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    [case] = json.loads(done.stdout.strip().splitlines()[-1])

    ids = ["loc-sandbox-0001", "loc-sandbox-0002"]
    runs = {(r["location"], r["phase"]): r for r in case["runs"]}
    assert sorted(runs) == sorted((loc, phase) for loc in ids for phase in ("extract", "sync"))
    for run in runs.values():
        assert run["ok"], run
        assert 0 < run["startup_s"] < run["wall_s"] and run["peak_rss_mb"] > run["setup_rss_mb"] > 0
    for loc in ids:  # each location's sync was launched only after its extraction ended
        extract, sync = runs[(loc, "extract")], runs[(loc, "sync")]
        assert sync["began"] >= extract["began"] + extract["wall_s"]
    stats = case["stats"]
    assert sorted(stats["highlevel"]) == ids
    for loc in ids:  # every location read its own accounts, and the first sync wrote to SendApp
        assert stats["highlevel"][loc]["requests"] > 0 and stats["sendowl"][loc]["requests"] > 0
        assert stats["sendapp"][loc]["writes"] > 0
    assert sum(s["limited"] for per in stats.values() for s in per.values()) == 0
