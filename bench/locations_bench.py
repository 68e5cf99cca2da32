"""Many-locations benchmark (not a test): N HighLevel locations x C contacts, every location's runs in processes.

For each N: a fresh sandbox process serving N locations (each its own HighLevel budget, SendOwl and SendApp account;
real limits), a locations file, then the cycles asked for, in order, as the deployment runs them: the onboarding
backfill of the last `--days` days, hourly cycles (before each, `--hourly-edits` contacts of every location edited in
HighLevel, as its users would). A location's cycle is two runs, each a fresh process (bench/locations_run.py):
its extraction, then its sync, queued as deploy/dagster.yaml's run queue admits them (`--concurrency` runs at a time,
`--sync-limit` of them syncs). Measured: the cycle's wall time; each run's wall time, start-up (spawn to first step),
CPU and peak RSS; the sandbox's requests, writes and 429s per location and account (its admin stats); the sandbox's
own CPU and peak RSS. Then, for the first N, `--fixed-samples` lone hourly cycles of one location: a run's fixed cost.
A cycle `name:off` switches limits and the clients' pacing off: a fast way to reach a state, not a measurement.

Each invocation adds its cases to bench/results/locations.json (a case run again replaces its old figures) and
rewrites bench/results/locations.md from every recorded case, so sizes can be run one invocation at a time.

    .venv/bin/python bench/locations_bench.py [--locations 5 20 50] [--contacts 2000] [--days 30]
        [--cycles backfill hourly] [--concurrency 8] [--sync-limit 4] [--hourly-edits 20]
        [--hl-sweep 50] [--sendapp-sweep 10] [--fixed-samples 3]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import duckdb
import httpx

from etl_project.devtools.process import SandboxProcess
from etl_project.sandbox.locations import LocationAccount, default_accounts

HERE = Path(__file__).parent
RUN_SCRIPT = HERE / "locations_run.py"
RESULTS_JSON = HERE / "results" / "locations.json"
SCOPE = {"highlevel": "location", "sendowl": "account", "sendapp": "account"}  # the admin routes' selector
PHASES = ("extract", "sync")
SECRETS = ("highlevel_token", "sendowl_key", "sendowl_secret", "sendapp_api_key", "sendapp_channel_token")


CHILDREN: set[subprocess.Popen[str]] = set()  # run processes under way, killed if the benchmark is stopped


def kill_children() -> None:
    for child in list(CHILDREN):
        child.kill()


def on_sigterm(*_: object) -> None:
    """Kill the run processes, then leave through the context managers (the sandbox is stopped)."""
    kill_children()
    raise SystemExit(1)


def write_locations_file(folder: Path, accounts: list[LocationAccount]) -> tuple[Path, dict[str, str]]:
    """The deployment's locations file (shipped sync config for all) and the environment holding its secrets."""
    lines, env = [f'data_dir = "{folder / "data"}"'], {}
    for i, account in enumerate(accounts):
        lines += ["", "[[locations]]", f'id = "{account.location_id}"', f'name = "{account.name}"']
        for secret in SECRETS:
            name = f"BENCH_L{i}_{secret.upper()}"
            env[name] = getattr(account, secret)
            lines.append(f'{secret}_env = "{name}"')
    path = folder / "locations.toml"
    path.write_text("\n".join(lines) + "\n")
    return path, env


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Bench:
    def __init__(self, sandbox: SandboxProcess, folder: Path, accounts: list[LocationAccount], a: Any) -> None:
        self.sandbox, self.args, self.accounts = sandbox, a, accounts
        self.ids = [account.location_id for account in accounts]
        self.t0 = time.monotonic()
        self.file, secrets = write_locations_file(folder, accounts)
        self.env = {
            **os.environ,
            **secrets,
            "ETL_LOCATIONS_FILE": str(self.file),
            "ETL_STATE_DIR": str(folder / "state"),  # the machine's shared rate-budget ledgers
            "BENCH_URLS": json.dumps(sandbox.base_urls),
            "BENCH_DAYS": str(a.days),
            "BENCH_HL_SWEEP": str(a.hl_sweep),
            "BENCH_SENDAPP_SWEEP": str(a.sendapp_sweep),
        }

    def admin(self, method: str, platform: str, route: str, **kw: Any) -> Any:
        url = f"{self.sandbox.admin_url(platform)}/_sandbox/{route}"
        response = httpx.request(method, url, params={SCOPE[platform]: "all"}, timeout=60, **kw)
        response.raise_for_status()
        return response.json()

    def set_limits(self, enabled: bool) -> None:
        for platform in SCOPE:
            self.admin("POST", platform, "rate-limits", json={"enabled": enabled})

    def stats(self) -> dict[str, dict[str, dict[str, int]]]:
        """Per platform, per location: requests, 429s (SendOwl's 403 block), write requests."""
        out: dict[str, dict[str, dict[str, int]]] = {}
        for platform in SCOPE:
            per = self.admin("GET", platform, "stats")["locations"]
            out[platform] = {
                loc: {"requests": s["total"], "limited": s["rate_limited"], "writes": s["write_requests"]}
                for loc, s in per.items()
            }
        return out

    def one_run(self, location_id: str, cycle: str, phase: str, extra: dict[str, str]) -> dict[str, Any]:
        env = {**self.env, **extra, "BENCH_SPAWNED_AT": repr(time.time())}
        started = time.monotonic()
        cmd = [sys.executable, str(RUN_SCRIPT), location_id, cycle, phase]
        with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
            CHILDREN.add(child)
            out, err = child.communicate()
            CHILDREN.discard(child)
        done = subprocess.CompletedProcess(cmd, child.returncode, out, err)
        times = {"began": started - self.t0, "wall_s": time.monotonic() - started}
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            tail = done.stderr.strip().splitlines()[-5:]
            print(f"{phase} run of {location_id} ({cycle}) exited {done.returncode}: {tail}", flush=True)
            return {"location": location_id, "phase": phase, "ok": False, "failed_steps": ["process"], **times}
        result: dict[str, Any] = json.loads(lines[-1])
        if not result["ok"]:
            print(f"{phase} run of {location_id} ({cycle}) failed steps: {result['failed_steps']}", flush=True)
        return {**result, **times}

    def queue_runs(self, cycle: str, extra: dict[str, str]) -> list[dict[str, Any]]:
        """The run queue as deploy/dagster.yaml configures it: at most `concurrency` runs, of which at most
        `sync_limit` syncs, launched oldest first; a location's sync is queued when its extraction ends (the
        sync_after_extract sensor's 30 s tick is left out), so it waits behind the extractions queued before it."""
        queue: deque[tuple[str, str]] = deque(("extract", loc) for loc in self.ids)
        running: dict[Future[dict[str, Any]], tuple[str, str]] = {}
        runs: list[dict[str, Any]] = []
        with ThreadPoolExecutor(self.args.concurrency) as pool:
            try:
                while queue or running:
                    for item in list(queue):
                        if len(running) >= self.args.concurrency:
                            break
                        syncs = sum(phase == "sync" for phase, _ in running.values())
                        if item[0] == "sync" and syncs >= self.args.sync_limit:
                            continue
                        queue.remove(item)
                        running[pool.submit(self.one_run, item[1], cycle, item[0], extra)] = item
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        phase, location_id = running.pop(future)
                        runs.append(future.result())
                        if phase == "extract" and runs[-1]["ok"]:
                            queue.append(("sync", location_id))
            except BaseException:
                kill_children()
                raise
        return runs

    def cycle(self, cycle: str, limits: str) -> dict[str, Any]:
        extra = {"BENCH_MIN_INTERVAL": "0" if limits == "off" else "1.0"}
        self.set_limits(limits == "real")
        for platform in SCOPE:
            self.admin("POST", platform, "stats/reset")
        sandbox_cpu = proc_cpu_seconds(self.sandbox.pid)
        self.t0 = time.monotonic()
        runs = self.queue_runs(cycle, extra)
        wall = time.monotonic() - self.t0
        return {
            "cycle": cycle,
            "limits": limits,
            "wall_s": wall,
            "runs": runs,
            "stats": self.stats(),
            "sandbox_cpu_s": proc_cpu_seconds(self.sandbox.pid) - sandbox_cpu,
            "sandbox_peak_rss_mb": proc_peak_rss_mb(self.sandbox.pid),
            "load_avg": os.getloadavg()[0],
        }

    def edit_contacts(self, count: int) -> int:
        """Users' edits in HighLevel since the backfill: `count` contacts of each location get a new last name."""
        edited = 0
        url = f"{self.sandbox.admin_url('highlevel')}/_sandbox/highlevel/contacts"
        with httpx.Client(timeout=30) as http:
            for n, location_id in enumerate(self.ids):
                warehouse = self.file.parent / "data" / "locations" / location_id / "etl.duckdb"
                if not warehouse.exists():  # no backfill ran: nothing known to edit
                    continue
                with duckdb.connect(str(warehouse), read_only=True) as db:
                    ids = db.execute("SELECT id FROM ghl_contacts ORDER BY id LIMIT ?", [count]).fetchall()
                for k, (contact_id,) in enumerate(ids):
                    body = {"lastName": f"Hourly{n}x{k}"}
                    http.put(f"{url}/{contact_id}", params={"location": location_id}, json=body).raise_for_status()
                    edited += 1
        return edited

    def fixed_cost(self, samples: int) -> list[dict[str, Any]]:
        """Lone hourly runs of location 0, nothing else running: a run process's fixed start-up and memory."""
        self.set_limits(True)
        self.t0 = time.monotonic()
        return [self.one_run(self.ids[0], "hourly", phase, {}) for _ in range(samples) for phase in PHASES]


def run_size(n: int, a: Any, fixed_samples: int) -> list[dict[str, Any]]:
    args = [*SandboxProcess.any_free_ports(), "--contacts", str(a.contacts), "--locations", str(n)]
    args += ["--rate-limits", "real", "--seed", str(a.seed)]
    cases: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-locations-") as tmp, SandboxProcess(args, 1800) as sandbox:
        bench = Bench(sandbox, Path(tmp), default_accounts(n), a)
        common = {"locations": n, "contacts": a.contacts, "days": a.days, "concurrency": a.concurrency}
        common |= {"sync_limit": a.sync_limit, "hl_sweep": a.hl_sweep, "sendapp_sweep": a.sendapp_sweep}
        common |= {"cores": os.cpu_count(), "command": " ".join(["python", *sys.argv])}
        for step, spec in enumerate(a.cycles):
            cycle, _, limits = spec.partition(":")
            extra: dict[str, Any] = {"step": step}
            if cycle == "hourly":
                extra["edits"] = bench.edit_contacts(a.hourly_edits)
            cases.append({**common, **extra, **bench.cycle(cycle, limits or "real")})
            print(summary(cases[-1]), flush=True)
        if fixed_samples:
            cases.append({**common, "cycle": "fixed", "runs": bench.fixed_cost(fixed_samples)})
            print(summary(cases[-1]), flush=True)
    return cases


def summary(case: dict[str, Any]) -> str:
    runs = case["runs"]
    walls = [r["wall_s"] for r in runs]
    ok = sum(r["ok"] for r in runs)
    text = f"N={case['locations']} {case['cycle']} ({case.get('limits', 'real')}): runs ok {ok}/{len(runs)}, "
    text += f"run wall median {statistics.median(walls):.1f} s max {max(walls):.1f} s"
    if "wall_s" in case:
        limited = sum(s["limited"] for per in case["stats"].values() for s in per.values())
        text += f", cycle wall {case['wall_s']:.1f} s, 429s {limited}"
    return text


def record(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merges the new cases into the stored ones (same size, cycle and limits: replaced)."""

    def key(c: dict[str, Any]) -> tuple[Any, ...]:
        return (c["locations"], c["contacts"], c["days"], c["cycle"], c.get("step"), c["concurrency"])

    stored = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else []
    fresh = {key(c) for c in cases}
    merged = [c for c in stored if key(c) not in fresh] + cases
    merged.sort(key=lambda c: (c["contacts"], c["days"], c["locations"], c.get("step", 99)))
    RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_JSON.write_text(json.dumps(merged, indent=1) + "\n")
    return merged


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--locations", type=int, nargs="+", default=[5, 20, 50], help="sizes N (locations)")
    p.add_argument("--contacts", type=int, default=2000, help="contacts per location")
    p.add_argument("--days", type=int, default=30, help="the backfill's daily partitions")
    p.add_argument(
        "--cycles",
        nargs="+",
        default=["backfill", "hourly"],
        help="cycles in order, each backfill|hourly[:real|off]; ':off' (limits and pacing off) prepares a state fast",
    )
    p.add_argument("--concurrency", type=int, default=8, help="runs at a time (deploy: max_concurrent_runs)")
    p.add_argument("--sync-limit", type=int, default=4, help="sync runs at a time (deploy: the etl/sync tag limit)")
    p.add_argument("--hourly-edits", type=int, default=20, help="contacts edited per location before the hourly")
    p.add_argument("--hl-sweep", type=int, default=50, help="HighLevel child_sweep_per_run")
    p.add_argument("--sendapp-sweep", type=int, default=10, help="SendApp child_sweep_per_run")
    p.add_argument("--fixed-samples", type=int, default=3, help="lone hourly cycles of one location, first N only")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-record", action="store_true", help="print only (the smoke test)")
    a = p.parse_args()
    from locations_report import write_report  # bench/ is the script's directory, so on sys.path

    signal.signal(signal.SIGTERM, on_sigterm)

    cases: list[dict[str, Any]] = []
    for i, n in enumerate(a.locations):
        size = run_size(n, a, 0 if i else a.fixed_samples)
        cases += size
        if not a.no_record:  # each size as soon as it is done: a long sweep stopped half-way keeps what it ran
            write_report(record(size))
    if a.no_record:
        print(json.dumps(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
