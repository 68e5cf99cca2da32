"""Run only one write step, in its own process, so a test can kill it in the middle of its outbox.

Usage: python -m etl_tests.crash_worker <duckdb file> <sendapp api url> <seconds between SendApp requests>
       [<asset: sendapp_writes | activity_writes> <highlevel url> <sendowl url> <sync config path>]
"""

from __future__ import annotations

import sys

import dagster as dg
from dagster_duckdb import DuckDBResource

from etl_project.defs.activity_assets import activity_writes
from etl_project.defs.load_assets import write_assets
from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.resources import HighLevelResource, SendAppResource, SendOwlResource
from etl_project.load.guard import ALLOW_MASS_CHANGE_TAG
from etl_tests.conftest import LOCATION, SENDAPP_CHANNEL, SENDAPP_KEY, SENDOWL_KEY, SENDOWL_SECRET, TOKEN


def main(database: str, sendapp_url: str, interval: str, asset: str = "sendapp_writes", *rest: str) -> int:
    resources: dict[str, object] = {
        "sendapp": SendAppResource(
            base_url=sendapp_url,
            api_key=SENDAPP_KEY,
            channel_token=SENDAPP_CHANNEL,
            min_interval_seconds=float(interval),
        ),
        "duckdb": DuckDBResource(database=database),
        "sync_config": SyncConfigResource(path=rest[2] if len(rest) > 2 else ""),
    }
    if asset == "activity_writes":
        hl_url, so_url = rest[0], rest[1]
        resources["highlevel"] = HighLevelResource(base_url=hl_url, token=TOKEN, location_id=LOCATION)
        resources["sendowl"] = SendOwlResource(base_url=so_url, key=SENDOWL_KEY, secret=SENDOWL_SECRET)
        step = activity_writes
    else:
        (step,) = [a for a in write_assets if a.key.to_user_string() == asset]
    result = dg.materialize([step], resources=resources, tags={ALLOW_MASS_CHANGE_TAG: "true"})
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
