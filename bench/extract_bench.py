"""Extraction benchmark (not a test): HighLevel contacts at N = 10k and 100k, rate limits real and off.

Each case runs in a fresh process against a fresh sandbox process, so peak RSS is the extractor's own. The case
extracts every contact of 92 daily windows in one paging pass (as a single-run backfill does), then, to measure
sustained pacing under the real limit, the tasks of the first `--children` contacts (one request each).
Results: bench/results/extract.md.

    .venv/bin/python bench/extract_bench.py [--sizes 10000 100000] [--modes real off] [--children 800]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx

from etl_project.devtools.process import SandboxProcess
from etl_project.extract.runs import extract_children, extract_updated
from etl_project.platforms.highlevel import BearerTokenAuth, HighLevelClient
from etl_project.sandbox.highlevel.store import HighLevelSettings
from etl_project.warehouse.store import Warehouse, Window

RESULTS = Path(__file__).parent / "results" / "extract.md"
BURST, INTERVAL = 100, 10.0  # HighLevel's documented burst limit: 100 requests per 10 s


def run_case(url: str, children: int) -> dict[str, float]:
    """Runs inside the measured child process."""
    hl = HighLevelSettings()
    stamps: list[float] = []
    http = httpx.Client(
        base_url=url,
        auth=BearerTokenAuth(hl.token),
        timeout=60,
        event_hooks={"response": [lambda r: stamps.append(time.monotonic())]},
    )
    client = HighLevelClient(http, hl.location_id)
    db = Path(tempfile.mkdtemp()) / "bench.duckdb"

    @contextmanager
    def connect() -> Iterator[duckdb.DuckDBPyConnection]:
        con = duckdb.connect(str(db))
        try:
            yield con
        finally:
            con.close()

    warehouse = Warehouse(connect)
    warehouse.ensure_schema()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    windows = [
        Window(
            str((today - timedelta(days=d)).date()),
            today - timedelta(days=d),
            today - timedelta(days=d - 1),
            today - timedelta(days=d, minutes=15),
            today - timedelta(days=d - 1),
            "bench",
            True,
        )
        for d in range(91, -1, -1)
    ]
    traced = bool(os.environ.get("BENCH_TRACE"))
    if traced:  # Python-heap peak of the extraction itself (DuckDB's own buffers are native memory)
        tracemalloc.start()
    started = time.monotonic()
    reports = extract_updated(
        client, warehouse, "highlevel", "contacts", client.iter_contacts_updated, windows, lambda c: c.updated_at
    )
    contacts_s = time.monotonic() - started
    heap_peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else -1.0
    if traced:
        tracemalloc.stop()
    records = sum(r.land.records + r.land.quarantined for r in reports)  # includes lookback re-reads
    ids = [r[0] for r in warehouse.query("SELECT id FROM ghl_contacts ORDER BY id LIMIT $n", {"n": children})]
    time.sleep(INTERVAL)  # start the paced phase with an empty window, so the ideal time is exact
    child_started = time.monotonic()
    first = len(stamps)
    extract_children(client, warehouse, "highlevel", "tasks", client.get_tasks, [windows[-1]], [ids])
    children_s = time.monotonic() - child_started
    # A perfect client sends BURST at once, then BURST per INTERVAL: n requests need INTERVAL*(ceil(n/BURST)-1)
    # seconds at the least. The share of that ideal we achieved is the share of the allowed rate we used.
    n = len(stamps) - first
    ideal = INTERVAL * (math.ceil(n / BURST) - 1)
    sustained = n / (stamps[-1] - child_started)
    share = ideal / (stamps[-1] - child_started) if ideal else 0.0
    distinct = warehouse.query("SELECT count(*) FROM ghl_contacts")[0][0]
    held = warehouse.query("SELECT count(DISTINCT record_id) FROM quarantine WHERE kind = 'contacts'")[0][0]
    return {
        "contacts": distinct + held,
        "contacts_seconds": contacts_s,
        "records_per_s": records / contacts_s,
        "children_seconds": children_s,
        "requests": client.requests_sent,
        "status_429": client.status_counts.get(429, 0),
        "sustained_rps": sustained,
        "share_of_allowed": share,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "waited_s": client.pacer.waited_seconds,
        "heap_peak_mb": heap_peak,
    }


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    p.add_argument("--modes", nargs="+", default=["real", "off"])
    p.add_argument("--children", type=int, default=800)
    p.add_argument("--no-trace", action="store_true", help="skip the extra traced (Python heap) pass per size")
    p.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case in this process
    a = p.parse_args()
    if a.case:
        print(json.dumps(run_case(a.case, a.children)))
        return 0
    rows = []
    for size in a.sizes:
        modes = [*a.modes] + ([] if a.no_trace else ["off+trace"])
        for mode in modes:
            limits = mode.split("+")[0]
            args = [*SandboxProcess.any_free_ports(), "--contacts", str(size), "--rate-limits", limits]
            with SandboxProcess(args, startup_timeout=600) as sandbox:
                url = sandbox.base_urls["highlevel"]
                env = {**os.environ, **({"BENCH_TRACE": "1"} if mode.endswith("+trace") else {})}
                out = subprocess.run(
                    [sys.executable, __file__, "--case", url, "--children", str(a.children)],
                    check=True,
                    capture_output=True,
                    text=True,
                    env=env,
                )
                stats = httpx.get(f"{url}/_sandbox/stats", timeout=30).json()
            result = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append({"size": size, "mode": mode, **result, "sandbox_429": stats["rate_limited"]})
            print(rows[-1], flush=True)
    write_results(rows, a.children)
    return 0


def write_results(rows: list[dict[str, float]], children: int) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Extraction benchmark",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on this machine (`make bench`). Contacts of 92 daily",
        f"windows in one paging pass, then tasks of {children} contacts (one request each). Allowed sustained rate",
        "with real limits:",
        f"{BURST} requests per {INTERVAL:.0f} s. '% of allowed' = the least time a perfect client needs for the task",
        "requests (a burst, then a burst per interval) / the time taken. Each case runs in its own process; peak RSS",
        "is the extractor's, DuckDB's native buffer cache included (it grows with the database); 'heap peak' is",
        "the Python heap of the contacts phase under tracemalloc ('off+trace' rows; tracing slows them down).",
        "records/s is the contacts phase (paging + DuckDB landing).",
        "",
        "| contacts | limits | records/s | requests | 429s | task req/s | % of allowed | peak RSS MB | heap peak MB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        share = f"{100 * r['share_of_allowed']:.0f} %" if r["mode"] == "real" else "n/a"
        heap = f"{r['heap_peak_mb']:.1f}" if r["heap_peak_mb"] >= 0 else "n/a"
        lines.append(
            f"| {r['size']:,} | {r['mode']} | {r['records_per_s']:,.0f} | {r['requests']:,} | {r['sandbox_429']} "
            f"| {r['sustained_rps']:.2f} | {share} | {r['peak_rss_mb']:.0f} | {heap} |"
        )
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
