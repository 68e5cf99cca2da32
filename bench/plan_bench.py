"""Planning benchmark (not a test): changesets for N people across three platforms, 1 % of them changed.

Per size, a fresh DuckDB file gets a synthetic steady state after a previous sync (generated in SQL), then 1 % of
the people get a new first name and 0.1 % are new. A fresh worker process plans both targets with the
`*_changeset` assets' own `plan_changeset`, timed step by step, and reports its peak RSS; the plan must be exactly
the injected changes. Then the bare DuckDB join over the same tables is timed. Results: bench/results/plan.md.

    .venv/bin/python bench/plan_bench.py [--sizes 100000,1000000] [--timeout 600]
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from subprocess import PIPE
from typing import Any

import duckdb

from etl_project.load.changeset import Step, plan_changeset, planning_scope, target_config
from etl_project.sync.config import load_config
from etl_project.warehouse.outbox import Outbox
from etl_project.warehouse.sql import load_sql
from etl_project.warehouse.store import Warehouse
from etl_project.warehouse.tables import kind_table

RESULTS = Path(__file__).parent / "results" / "plan.md"
TARGETS = ("sendapp", "highlevel")
NOTHING_YET = '{"running": "start", "steps": {}, "base_rss_mib": 0}'  # a worker killed before it printed
STEPS = ("candidates", "sql_only", "plan_target", "frame", "store_plan")
T0, T1 = "TIMESTAMPTZ '2026-01-01 00:00:00+00'", "TIMESTAMPTZ '2026-01-02 00:00:00+00'"  # last sync, later edit
PEOPLE = """CREATE TEMP TABLE people AS SELECT i, 'p_' || substr(md5('person' || i), 1, 16) AS person_id,
    i % 1000 = 999 AS is_new, i % 10 < 7 AND NOT is_new AS on_sendapp, i % 10 < 3 AND NOT is_new AS on_sendowl,
    substr(md5('ghl' || i), 1, 20) AS ghl_id, (1000000000 + i)::VARCHAR AS sendapp_id, 'user' || i || '@x.com' AS email,
    CASE WHEN i % 10 < 7 OR is_new THEN '+1212' || lpad((i % 10000000)::VARCHAR, 7, '0') END AS phone,
    'First' || (i % 5000) AS old_first, 'Last' || (i % 20000) AS last_name, ['customer', 'segment-' || (i % 7)] AS tags,
    i % 100 = 50 AND (i // 100) % 2 = 0 AS edited_on_hl, i % 100 = 50 AND (i // 100) % 2 = 1 AS edited_on_sa,
    CASE WHEN i % 100 = 50 THEN old_first || ' Edited' ELSE old_first END AS new_first
FROM range($n) t(i)"""
GENERATE = [
    f"""INSERT INTO golden_contacts SELECT person_id, email, phone, new_first, last_name, tags,
        list_filter(['highlevel', if(on_sendapp, 'sendapp', NULL), if(on_sendowl, 'sendowl', NULL)],
                    lambda x: x IS NOT NULL), '{{}}', {T1} FROM people""",
    f"""INSERT INTO identity_links SELECT 'highlevel', ghl_id, person_id, 'link', {T0} FROM people
        UNION ALL SELECT 'sendapp', sendapp_id, person_id, 'link', {T0} FROM people WHERE on_sendapp
        UNION ALL SELECT 'sendowl', email, person_id, 'link', {T0} FROM people WHERE on_sendowl""",
    f"""INSERT INTO ghl_contacts (id, payload, payload_hash, extracted_at)
        SELECT ghl_id, '{{}}', md5(ghl_id), {T0} FROM people""",
    f"""INSERT INTO sendapp_contacts (id, payload, payload_hash, extracted_at)
        SELECT sendapp_id, '{{}}', md5(sendapp_id), {T0} FROM people WHERE on_sendapp""",
    # the normalised extraction of each record: the golden values, with the new first name only where it was edited
    f"""INSERT INTO contact_values SELECT 'highlevel', ghl_id, person_id, email, phone,
            if(edited_on_hl, new_first, old_first), last_name, tags, if(edited_on_hl, {T1}, {T0}) FROM people
        UNION ALL SELECT 'sendapp', sendapp_id, person_id, email, phone, if(edited_on_sa, new_first, old_first),
            last_name, tags, if(edited_on_sa, {T1}, {T0}) FROM people WHERE on_sendapp
        UNION ALL SELECT 'sendowl', email, person_id, email, NULL, old_first, last_name, NULL, {T0}
            FROM people WHERE on_sendowl""",
    # what each target acknowledged at the last sync (the values before the edits), canonical JSON without nulls
    f"""INSERT INTO target_snapshots SELECT p, person_id, if(p = 'sendapp', sendapp_id, ghl_id),
            json_merge_patch(json_object('email', email, 'first_name', old_first, 'last_name', last_name, 'tags', tags),
                             json_object('phone', phone)),
            {T0}, {T0}, NULL
        FROM people, (VALUES ('sendapp'), ('highlevel')) t(p) WHERE NOT is_new AND (p = 'highlevel' OR on_sendapp)""",
]
BARE_JOIN = """SELECT count(*) FROM golden_contacts g
LEFT JOIN identity_links l ON l.person_id = g.person_id AND l.platform = $p
LEFT JOIN contact_values v ON v.platform = $p AND v.platform_id = l.platform_id
LEFT JOIN target_snapshots s ON s.platform = $p AND s.person_id = g.person_id"""


def generate(db: Path, n: int) -> dict[str, int]:
    """The steady state for n people; returns the operations the injected changes must produce."""
    warehouse = Warehouse(lambda: duckdb.connect(str(db)))  # a connection is a context manager that closes it
    warehouse.ensure_schema()
    with warehouse.connect() as con:
        con.execute(PEOPLE, {"n": n})
        for statement in GENERATE:
            con.execute(statement)
        row = con.execute("SELECT sum(is_new::INT), sum(edited_on_hl::INT), sum(edited_on_sa::INT) FROM people")
        creates, sendapp_updates, highlevel_updates = row.fetchone() or (0, 0, 0)
    return {"sendapp_create": creates, "sendapp_update": sendapp_updates, "highlevel_update": highlevel_updates}


def peak_rss_mib(pid: str = "self") -> float:  # not ru_maxrss: Linux carries it over through fork and exec
    found = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(found[1]) / 1024 if found else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(db: Path) -> None:
    """In a fresh process: both targets planned as the `*_changeset` assets plan them, timed by step; prints its
    state before each step and last."""
    from etl_project.defs import load_assets  # noqa: F401  the assets' module: Dagster loaded, as in a run

    config, outbox = load_config(), Outbox(Warehouse(lambda: duckdb.connect(str(db))))
    out: dict[str, Any] = {"steps": {t: {} for t in TARGETS}, "ops": {}, "candidates": 0}
    out["base_rss_mib"] = peak_rss_mib()

    def timer(platform: str) -> Step:
        @contextmanager
        def step(name: str) -> Iterator[None]:
            out["running"], out["rss_mib"] = f"{platform} {name}", peak_rss_mib()
            print(json.dumps(out), flush=True)
            started = time.perf_counter()
            yield
            out["steps"][platform][name] = time.perf_counter() - started

        return step

    out["started_at"], begin = time.time(), time.perf_counter()
    for p in TARGETS:
        changeset = plan_changeset(outbox, p, config, f"bench-{os.getpid()}", timer(p))
        out["candidates"] += changeset.candidates
        out["ops"].update({f"{p}_{kind}": n for kind, n in changeset.by_kind().items()})
        out["ops"][f"{p}_stored"] = changeset.new_in_outbox
    out["planning_s"], out["peak_rss_mib"] = time.perf_counter() - begin, peak_rss_mib()
    filters = {}
    for p in TARGETS:  # the candidates query's parameters, as planning chose them
        target = target_config(p, config)
        assert target is not None, f"{p}: the default config plans it"
        scope = planning_scope(outbox, p, target, config)
        filters[p] = {"platform": p, "can_create": scope.can_create, "needs_phone": scope.needs_phone}
    with duckdb.connect(str(db)) as con:  # the candidates query once more, fetched without building Python objects
        for p in TARGETS:
            sql = load_sql("select_plan_candidates").format(table=kind_table(p, "contacts").table)
            with timer(p)("sql_only"):
                con.execute(sql, filters[p]).fetchall()
    out["running"] = None
    print(json.dumps(out), flush=True)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="100000,1000000", help="comma-separated numbers of people")
    p.add_argument("--timeout", type=float, default=600, help="seconds a size's worker may run before it is killed")
    p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: plan the database at this path in this process
    a = p.parse_args()
    if a.worker:
        worker(Path(a.worker))
        return 0
    rows = []
    for n in [int(s) for s in a.sizes.split(",")]:
        tmp = Path(tempfile.mkdtemp(prefix="plan_bench_"))
        try:
            db, t0 = tmp / "plan.duckdb", time.perf_counter()
            row: dict[str, Any] = {"people": n, "want": generate(db, n), "generate_s": time.perf_counter() - t0}
            row["db_mib"], killed, hwm = db.stat().st_size / 2**20, 0.0, 0.0
            with subprocess.Popen([sys.executable, __file__, "--worker", str(db)], stdout=PIPE, stderr=PIPE) as proc:
                try:
                    stdout, stderr = proc.communicate(timeout=a.timeout)
                except subprocess.TimeoutExpired:  # note its peak so far, kill it; its last line says where it was
                    killed, hwm = time.time(), peak_rss_mib(str(proc.pid))
                    proc.kill()
                    stdout, stderr = proc.communicate()
            if proc.returncode and not killed:
                raise SystemExit(stderr.decode())
            row.update(json.loads((stdout.decode().strip() or NOTHING_YET).splitlines()[-1]))
            if killed:
                row["killed_after_s"], row["rss_mib"] = killed - row.get("started_at", killed), hwm
            for _ in range(3):  # the bare join, each in a fresh connection as planning's queries are; median of 3
                with duckdb.connect(str(db)) as con:
                    t0 = time.perf_counter()
                    row["join_rows"] = sum(con.execute(BARE_JOIN, {"p": t}).fetchall()[0][0] for t in TARGETS)
                    row.setdefault("bare_joins", []).append(time.perf_counter() - t0)
            row["bare_join_s"] = sorted(row["bare_joins"])[1]
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if "planning_s" in row:  # planning completed: it must be exactly the injected changes
            ops, want = row["ops"], row["want"]
            got = {k: v for k, v in ops.items() if v and not k.endswith("_stored")}
            assert got == want, f"plan for {n:,} people is not the injected changes: {ops}, want {want}"
            assert ops["sendapp_stored"] + ops["highlevel_stored"] == sum(want.values()), "outbox rows missing"
        rows.append(row)
        print(json.dumps(row), flush=True)
    write_results(rows, a.timeout)
    return 0


def write_results(rows: list[dict[str, Any]], timeout: float) -> None:
    def seconds(r: dict[str, Any]) -> float:  # planning time, or how long it ran before the worker was killed
        return max(float(r.get("planning_s") or r["killed_after_s"]), 1e-3)

    def planning(r: dict[str, Any]) -> str:
        return f"{r['planning_s']:.2f}" if "planning_s" in r else f"> {seconds(r):.0f} (killed in {r['running']})"

    first, last = rows[0], rows[-1]
    done, scale = "planning_s" in first and "planning_s" in last, seconds(last) / seconds(first)
    allowed, yes = 1.2 * last["people"] / first["people"], {True: "**met**", False: "**NOT met**"}
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# Planning benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (`make bench-plan`) on this machine: `nproc` {nproc}, Python",
        f"{host.python_version()}, DuckDB {duckdb.__version__}; shared and noisy, one run per size.",
        "",
        "Synthetic steady state after a previous sync (DuckDB SQL in `bench/plan_bench.py`): everyone on HighLevel,",
        "70 % on SendApp (the rest have no phone), 30 % on SendOwl; then 1 % get a new first name (half edited on",
        "HighLevel, half on SendApp: updates for the other) and 0.1 % are new on HighLevel (SendApp creates).",
        "Planning = `plan_changeset` for both targets (what the `*_changeset` assets run), in a fresh process: its",
        "peak RSS (VmHWM), and in brackets with only Python, Dagster and DuckDB loaded. A completed plan must equal",
        "the injected changes.",
        "Bare join = golden LEFT JOIN links, contact_values, target_snapshots per target, summed (median of 3 runs).",
        f"A worker is killed after {timeout:.0f} s (`--timeout`); its peak RSS is read just before.",
        "",
        "| people | candidates | operations (creates / updates) | planning s | bare join s | ratio | peak RSS MiB "
        "| generate s | DB MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ok, want = "planning_s" in r, r["want"]
        creates, updates = want["sendapp_create"], want["sendapp_update"] + want["highlevel_update"]
        candidates = f"{r['candidates']:,}" if ok else "n/a"
        lines.append(
            f"| {r['people']:,} | {candidates} | {creates + updates:,} ({creates:,} / {updates:,})"
            f"{'' if ok else ' injected'} | {planning(r)} | {r['bare_join_s']:.2f} "
            f"| {'' if ok else '> '}{seconds(r) / r['bare_join_s']:.0f}x "
            f"| {'' if ok else '>= '}{r['peak_rss_mib' if ok else 'rss_mib']:,.0f} ({r['base_rss_mib']:,.0f}) "
            f"| {r['generate_s']:.1f} | {r['db_mib']:,.0f} |"
        )
    lines += [
        "",
        "Per step, seconds (`candidates` = plan_candidates: the SQL, then rows into golden dicts and TargetStates;",
        "`SQL only` = the same query run again after planning, fetched without Python objects; '-' = not reached):",
        "",
        "| people | target | candidates | (SQL only) | plan_target | frame | store_plan |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        for target in TARGETS:
            cells = [f"{r['steps'][target][k]:.3f}" if k in r["steps"].get(target, {}) else "-" for k in STEPS]
            lines.append(f"| {r['people']:,} | {target} | " + " | ".join(cells) + " |")
    if len(rows) > 1:  # when the smaller size was killed too, the ratio means nothing
        bound = "" if done else "more than " if "planning_s" in first else "unknown, not "
        lines += ["", f"Scaling {last['people']:,} / {first['people']:,} people: {bound}{scale:.1f}x the time."]
    lines += ["", "Targets:", ""]
    for r in (r for r in rows if r["people"] == 1_000_000):
        ok = "planning_s" in r
        lines.append(f"- 1M people planned in <= 30 s: {planning(r)} s, {yes[ok and r['planning_s'] <= 30]}")
        peak = r["peak_rss_mib" if ok else "rss_mib"]
        lines.append(f"- peak <= 4 GiB: {peak:,.0f} MiB, " + (yes[peak <= 4096] if ok else "when killed: unknown"))
    if len(rows) > 1:
        ratio = last["people"] / first["people"]
        lines.append(f"- {ratio:.0f}x the data in <= {allowed:.0f}x the time: {yes[done and scale <= allowed]}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
