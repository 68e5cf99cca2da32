"""Run only the SendApp write step, in its own process, so a test can kill it in the middle of the outbox.

Usage: python -m etl_tests.crash_worker <duckdb file> <sendapp api url> <seconds between requests>
"""

from __future__ import annotations

import sys

import dagster as dg
from dagster_duckdb import DuckDBResource

from etl_project.defs.load_assets import ALLOW_MASS_CHANGE_TAG, write_assets
from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.resources import SendAppResource
from etl_tests.conftest import SENDAPP_KEY


def main(database: str, sendapp_url: str, interval: str) -> int:
    (sendapp_writes,) = [a for a in write_assets if a.key.to_user_string() == "sendapp_writes"]
    result = dg.materialize(
        [sendapp_writes],
        resources={
            "sendapp": SendAppResource(base_url=sendapp_url, api_key=SENDAPP_KEY, min_interval_seconds=float(interval)),
            "duckdb": DuckDBResource(database=database),
            "sync_config": SyncConfigResource(),
        },
        tags={ALLOW_MASS_CHANGE_TAG: "true"},
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
