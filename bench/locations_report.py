"""Writes bench/results/locations.md from the cases bench/locations_bench.py recorded (bench/results/locations.json).

The tables are regenerated on every run; the notes under the NOTES marker (what the figures mean, what was not run)
are written by hand and kept."""

from __future__ import annotations

import math
import os
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "locations.md"
NOTES = "<!-- notes below are written by hand and kept when the tables are regenerated -->"
PLATFORMS = ("highlevel", "sendowl", "sendapp")


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def location_walls(runs: list[dict[str, Any]]) -> list[float]:
    """Each location's time from its extraction's launch to its sync's end (queueing included)."""
    spans: dict[str, list[float]] = {}
    for r in runs:
        span = spans.setdefault(r["location"], [math.inf, 0.0])
        span[0], span[1] = min(span[0], r["began"]), max(span[1], r["began"] + r["wall_s"])
    return [end - start for start, end in spans.values()]


def per_location(case: dict[str, Any], platform: str, field: str) -> str:
    values = [s[field] for s in case["stats"][platform].values()]
    return f"{med(values):,.0f} ({max(values):,})" if values else "-"


def cycle_row(c: dict[str, Any]) -> str:
    runs = c["runs"]
    walls = location_walls(runs)
    limited = sum(s["limited"] for per in c["stats"].values() for s in per.values())
    writes = [sum(c["stats"][p].get(loc, {}).get("writes", 0) for p in PLATFORMS) for loc in c["stats"]["highlevel"]]
    cpu = sum(r.get("cpu_s", 0.0) for r in runs) + c["sandbox_cpu_s"]
    starts = [r["startup_s"] for r in runs if "startup_s" in r]
    edits = f" ({c['edits'] // c['locations']} edits/loc)" if "edits" in c else ""
    return (
        f"| {c['locations']} | {c['contacts']:,} | {c['step']}: {c['cycle']}{edits} | {c['limits']} "
        f"| {c['concurrency']}/{c['sync_limit']} | {sum(r['ok'] for r in runs)}/{len(runs)} "
        f"| **{c['wall_s']:,.0f}** | {med(walls):,.0f} / {max(walls):,.0f} | {med(starts):.1f} "
        f"| {max(r.get('peak_rss_mb', 0.0) for r in runs):,.0f} | {per_location(c, 'highlevel', 'requests')} "
        f"| {per_location(c, 'sendowl', 'requests')} | {per_location(c, 'sendapp', 'requests')} "
        f"| {med(writes):,.0f} | **{limited}** | {c['sandbox_peak_rss_mb']:,.0f} | {cpu:,.0f} "
        f"| {cpu / c['wall_s']:.2f} | {c['load_avg']:.1f} |"
    )


def growth_rows(cycles: list[dict[str, Any]]) -> list[str]:
    """The same cycle at each N: wall time against the smallest N's, and against the queue's waves."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for c in cycles:
        if c["limits"] == "real":
            groups.setdefault((c["contacts"], c["days"], c["cycle"], c["step"]), []).append(c)
    rows = []
    for (contacts, _days, cycle, step), cases in sorted(groups.items()):
        cases.sort(key=lambda c: c["locations"])
        base = cases[0]
        for c in cases:
            k = c["concurrency"]
            waves = math.ceil(c["locations"] / k)
            walls = location_walls(c["runs"])
            rows.append(
                f"| {cycle} (step {step}) | {contacts:,} | {c['locations']} | {k} | {c['wall_s']:,.0f} "
                f"| {c['wall_s'] / base['wall_s']:.2f} | {waves} | {c['wall_s'] / waves:,.0f} | {med(walls):,.0f} |"
            )
    return rows


def fixed_rows(cases: list[dict[str, Any]]) -> list[str]:
    rows = []
    for c in cases:
        for r in c["runs"]:
            if "startup_s" not in r:
                continue
            rows.append(
                f"| {c['locations']} x {c['contacts']:,} | {r['phase']} | {r['startup_s']:.2f} | {r['ready_s']:.2f} "
                f"| {r['setup_cpu_s']:.2f} | {r['setup_rss_mb']:,.0f} | {r['wall_s']:.1f} | {r['cpu_s']:.2f} "
                f"| {r['peak_rss_mb']:,.0f} |"
            )
    return rows


def write_report(cases: list[dict[str, Any]]) -> None:
    cycles = [c for c in cases if c["cycle"] != "fixed"]
    fixed = [c for c in cases if c["cycle"] == "fixed"]
    kept = RESULTS.read_text().split(NOTES, 1)[1] if RESULTS.exists() and NOTES in RESULTS.read_text() else "\n"
    commands = list(dict.fromkeys(c["command"] for c in cases))
    lines = [
        "# Many locations: one backfill and hourly cycles, each location in its own run processes",
        "",
        f"Tables regenerated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/locations_bench.py` (`make "
        f"bench-locations`) on this machine: {os.cpu_count()} cores shared with other work. Commands run:",
        "",
        *[f"    {cmd}" for cmd in commands],
        "",
        "## Cycles",
        "",
        "A cycle = for each location, its extraction run, then its sync run, each a fresh process, queued as "
        "deploy/dagster.yaml admits them (K runs at a time, of which S syncs). *location wall*: from its "
        "extraction's launch to its sync's end. *start-up*: a run process's spawn to its first step. Requests, "
        "writes (write requests on all three platforms) per location: median (max). *429s*: every 429 (and "
        "SendOwl's 403 block) the sandbox answered, all locations. *CPU*: every run process plus the sandbox; "
        "*cores busy* = CPU / wall; *load*: the machine's 1-minute load average at the cycle's end (other work "
        "included). Limits `off`: a state prepared fast, not a measurement.",
        "",
        "| N | contacts | cycle | limits | K/S | runs ok | cycle wall s | location wall s median / max "
        "| start-up s | run peak RSS MB | HighLevel req/loc | SendOwl req/loc | SendApp req/loc | writes/loc "
        "| 429s | sandbox peak RSS MB | CPU s | cores busy | load |",
        "|---:|---:|---|---|---|---|---:|---|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|",
        *[cycle_row(c) for c in cycles],
        "",
        "## Growth with N (real limits)",
        "",
        "*waves* = ceil(N / K): the queue runs K at a time, so a cycle whose runs are bound by each location's own "
        "rate budget lasts about waves x one location's time; *per wave* flat means the cores kept up.",
        "",
        "| cycle | contacts | N | K | wall s | x smallest N | waves | wall / wave s | location wall median s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *growth_rows(cycles),
        "",
        "## Fixed cost of one run process",
        "",
        "Lone hourly cycles of one location, nothing else of ours running. *start-up*: spawn to the run's first "
        "step (interpreter, imports, definitions, resources, run start); *ready*: spawn to the `materialize` call; "
        "CPU and RSS at ready: what every run process pays before any work.",
        "",
        "| sandbox | run | start-up s | ready s | CPU at ready s | RSS at ready MB | run wall s | run CPU s "
        "| peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
        *fixed_rows(fixed),
        "",
        NOTES,
    ]
    RESULTS.write_text("\n".join(lines) + kept)
    print(f"wrote {RESULTS}")
