"""Tools for people, not the product: `make demo` (demo, demo_sync), `make ui` (devui), and what points the project
at a running sandbox (wiring, process). The product (definitions, defs, load, extract, sync, warehouse, platforms)
never imports this package; tests, benchmarks and the soak may.

Importing it silences Dagster's BetaWarning (the single-run backfill policy and code references are marked beta,
and the definitions warn when imported): these tools print for people. The test suite ignores the same warning in
pyproject.toml, so nothing changes there.
"""

import warnings

import dagster as dg

warnings.filterwarnings("ignore", category=dg.BetaWarning)
