"""The acceptance soak of issue #13 at full length (not a test; `etl_tests/test_soak.py` runs a short one).

14 simulated days of hourly and nightly ticks against a fresh in-process sandbox, with a simulated clock; see
`etl_tests/soak.py` for what each tick does and what is expected. Prints progress once per simulated day and
writes the closing report to bench/results/soak.md.

    .venv/bin/python bench/soak.py [--days 14] [--seed 1] [--contacts 20] [--fault-share 0.1]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import dagster as dg

warnings.filterwarnings("ignore", category=dg.BetaWarning)  # the single-run backfill policy is marked beta
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the harness lives in etl_tests

from etl_tests.soak import SoakOptions, run_soak  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "soak.md"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--hours", type=int, default=0, help="> 0: a soak this many hours long instead of --days")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--contacts", type=int, default=20)
    parser.add_argument("--fault-share", type=float, default=0.1)
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the report is written")
    parser.add_argument("--keep", type=Path, help="a folder to keep the warehouse and the runs in (post-mortem)")
    a = parser.parse_args()
    options = SoakOptions(
        days=a.days, hours=a.hours, seed=a.seed, contacts=a.contacts, fault_share=a.fault_share, keep=a.keep
    )
    report = run_soak(options, progress=lambda line: print(line, flush=True))
    checks = report.expectations()
    text = report.summary() + "\n## Expectations\n\n" + "\n".join(f"- [{'x' if ok else ' '}] {e}" for e, ok in checks)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text + "\n")
    print(text)
    print(f"\nwritten to {a.out}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
