"""What the soak saw: each run, the platforms' counters, duplicates, and the closing report."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from etl_project.sandbox.server import Sandbox

MARKER = re.compile(r"\[sync [0-9a-f]{12}\]")


@dataclass
class RunRecord:
    at: str  # simulated time the run was launched
    kind: str  # onboarding | hourly | nightly | backfill | sync | approval | quiet
    job: str
    run_id: str
    success: bool
    seconds: float
    fault: str | None = None  # what was injected around this run
    error: str | None = None  # the first failed step's message
    writes: dict[str, int] = field(default_factory=dict)  # write requests per platform during the run
    rate_limited: dict[str, int] = field(default_factory=dict)  # 429 (SendOwl: 403 block) per platform
    failing_checks: list[str] = field(default_factory=list)


def counters(sandbox: Sandbox) -> dict[str, tuple[int, int]]:
    """(write requests, rate-limit refusals) per platform so far."""
    return {
        name: (p.stats.write_requests, p.stats.by_status.get(p.stats.rate_limit_status, 0))
        for name, p in sandbox.platforms.items()
    }


def _groups(values: list[str]) -> set[str]:
    return {v for v, n in Counter(values).items() if n > 1}


def duplicate_groups(sandbox: Sandbox) -> dict[str, set[str]]:
    """Keys held by more than one record: contacts by email and phone per platform, and the notes, tasks and
    messages the sync created (by the marker in their body; SendApp task twins by contact, title and due time;
    welcome messages by number)."""
    hl, sa = sandbox.platforms["highlevel"].store, sandbox.platforms["sendapp"].store
    hl_contacts = list(hl.contacts.values())
    sa_contacts = list(sa.contacts.values())

    def digits(phone: Any) -> str:
        return re.sub(r"\D", "", str(phone or ""))[-10:]

    def markers(rows: list[dict[str, Any]]) -> list[str]:
        return [m for r in rows for m in MARKER.findall(str(r.get("body") or ""))]

    hl_tasks = [t for by in hl.tasks.values() for t in by.values()]
    hl_notes = [n for by in hl.notes.values() for n in by.values()]
    sa_notes = [n for by in sa.notes.values() for n in by.values()]
    sa_tasks = [t for by in sa.tasks.values() for t in by.values()]
    return {
        "highlevel contacts by email": _groups([str(c["email"]).lower() for c in hl_contacts if c.get("email")]),
        "highlevel contacts by phone": _groups([digits(c["phone"]) for c in hl_contacts if digits(c.get("phone"))]),
        "sendapp contacts by email": _groups([str(c["email"]).lower() for c in sa_contacts if c.get("email")]),
        "sendapp contacts by phone": _groups([digits(c["number"]) for c in sa_contacts]),
        "highlevel tasks": _groups(markers(hl_tasks)),
        "highlevel notes": _groups(markers(hl_notes)),
        "sendapp notes": _groups(markers(sa_notes)),
        "sendapp tasks": _groups([f"{t['contact_id']} {t.get('title')} {t.get('due_at')}" for t in sa_tasks]),
        "sendapp messages": _groups([f"{m.get('number')} {m.get('template')}" for m in sa.messages]),
    }


def new_duplicates(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, int]:
    """Duplicate groups that the seed did not already hold (a seeded account has a few of its own)."""
    return {kind: len(after[kind] - before.get(kind, set())) for kind in after}


@dataclass
class SoakReport:
    days: int
    seed: int
    contacts: int
    runs: list[RunRecord] = field(default_factory=list)
    ticks: int = 0
    onboarding_runs: int = 0  # runs the onboarding sensor requested (exactly one)
    approvals: list[str] = field(default_factory=list)  # approval ids the person gave
    person_needed: list[str] = field(default_factory=list)  # alerts a person got that were not an approval request
    held_alerts: int = 0
    backfill_followed: bool | None = None
    unrecovered: list[str] = field(default_factory=list)  # faulted runs whose next run of that kind failed too
    quiet_writes: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    seeded_duplicates: dict[str, int] = field(default_factory=dict)
    activity: dict[str, int] = field(default_factory=dict)
    refused_activity: dict[str, int] = field(default_factory=dict)
    outbox: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # writes not done, activities not done, quarantined records
    quiet_detail: list[str] = field(default_factory=list)  # what the final quiet tick wrote, if anything
    wall_seconds: float = 0.0

    @property
    def soak_runs(self) -> list[RunRecord]:
        return [r for r in self.runs if r.kind != "onboarding"]

    @property
    def unfaulted_failures(self) -> list[RunRecord]:
        return [r for r in self.soak_runs if not r.success and r.fault is None]

    @property
    def rate_limited(self) -> dict[str, int]:
        """Refusals by the modeled rate limits (runs with an injected 429 excluded: those 429s were the fault)."""
        total: Counter[str] = Counter()
        for r in self.runs:
            for name, n in r.rate_limited.items():
                if not (r.fault and r.fault.startswith(f"{name}:") and " x 429" in r.fault):
                    total[name] += n
        return dict(total)

    def writes(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for r in self.soak_runs:
            total.update(r.writes)
        return dict(total)

    def expectations(self) -> list[tuple[str, bool]]:
        """What an unattended soak must show, each with whether it held (the report's closing checklist)."""
        return [
            ("every run without an injected fault succeeds", not self.unfaulted_failures),
            ("a faulted run recovers by the next tick", not self.unrecovered),
            ("the UI backfill is followed by a sync", bool(self.backfill_followed)),
            (
                "at most one approval, after flow 3 is switched on (whether it crosses the guard depends on the data)",
                len(self.approvals) <= 1,
            ),
            ("no other alert needs a person", not self.person_needed),
            ("the final quiet tick sends 0 writes", not any(self.quiet_writes.values())),
            ("0 duplicated contacts, tasks, notes or messages", not any(self.duplicates.values())),
            ("0 x 429 (SendOwl: 0 blocks) from the modeled rate limits", not any(self.rate_limited.values())),
        ]

    def summary(self) -> str:
        runs = self.soak_runs
        failed = [r for r in runs if not r.success]
        by_kind = Counter(r.kind for r in runs)
        seconds = sum(r.seconds for r in runs)
        span = f"{self.days} simulated days" if self.days else f"{self.ticks} simulated hours"
        lines = [
            f"# Soak: {span}, seed {self.seed}, {self.contacts} seeded contacts",
            "",
            f"- ticks (simulated hours): {self.ticks}; wall time {self.wall_seconds:.0f} s "
            f"({self.wall_seconds / max(self.ticks, 1):.2f} s per tick; runs {seconds:.0f} s)",
            f"- runs launched: {len(runs)} ({', '.join(f'{k} {n}' for k, n in sorted(by_kind.items()))}); "
            f"succeeded {len(runs) - len(failed)}, failed {len(failed)} "
            f"(with an injected fault {len(failed) - len(self.unfaulted_failures)}, "
            f"without {len(self.unfaulted_failures)})",
            f"- runs with faults injected: {sum(1 for r in runs if r.fault)}; "
            f"faulted runs not recovered by the next tick: {len(self.unrecovered)}",
            f"- approvals needed: {len(self.approvals)} {self.approvals}; other alerts to a person: "
            f"{len(self.person_needed)}; transient failures held (no page): {self.held_alerts}",
            f"- onboarding backfills requested by the sensor: {self.onboarding_runs}; "
            f"UI backfill followed by a sync: {self.backfill_followed}",
            f"- write requests per platform (soak runs): {self.writes()}",
            f"- final quiet extract + sync write requests: {self.quiet_writes}",
            f"- new duplicates: {self.duplicates} (seeded before the soak: {self.seeded_duplicates})",
            f"- rate-limit refusals (429; SendOwl 403) outside injected 429s: {self.rate_limited}",
            f"- activity outbox at the end: {self.outbox}",
            f"- user activity done: {dict(sorted(self.activity.items()))}; refused: {self.refused_activity}",
        ]
        if failed:
            lines += ["", "## Failed runs", "", "| at | kind | fault | error |", "|---|---|---|---|"]
            for r in failed:
                error = (r.error or "").replace("|", "/").replace("\n", " ")[:220]
                lines.append(f"| {r.at} | {r.kind} | {r.fault or '-'} | {error} |")
        if self.person_needed:
            lines += ["", "## Alerts that needed a person", ""] + [f"- {t[:300]}" for t in self.person_needed]
        if self.quiet_detail:
            lines += ["", "## Written by the final quiet tick", ""] + [f"- {q}" for q in self.quiet_detail]
        if self.problems:
            lines += ["", "## Not written, not done, quarantined (at the end)", ""] + [f"- {p}" for p in self.problems]
        limited = [r for r in self.runs if r.rate_limited]
        if limited:
            lines += ["", "## Runs that met a rate limit", "", "| at | kind | fault | refusals |", "|---|---|---|---|"]
            lines += [f"| {r.at} | {r.kind} | {r.fault or '-'} | {r.rate_limited} |" for r in limited]
        checks = Counter(c for r in runs for c in r.failing_checks)
        if checks:
            lines += ["", "## Failing checks (runs)", ""] + [f"- {c}: {n}" for c, n in checks.most_common()]
        return "\n".join(lines) + "\n"
