"""A location onboarded beside the demo's story, in a process of its own: its history backfill and its first sync,
one line per run as it starts and as it ends (the demo starts it; docs/demo.md).

    python -m etl_project.devtools.demo_onboarding LOCATION_ID --locations-file F --urls JSON --admin JSON

Every run carries the tag `etl/location=LOCATION_ID`, which the resources resolve through the locations file: the
location's credentials (from the environment variables the file names), its own warehouse and its sync config.
The runs are recorded in $DAGSTER_HOME beside the story's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import httpx

from etl_project import settings
from etl_project.definitions import EXTRACT_ASSETS
from etl_project.defs.location_scope import location_tag
from etl_project.defs.partitions import MODE_TAG, partition_range_tags
from etl_project.defs.reconcile_assets import SyncConfigResource
from etl_project.defs.sync_run import SYNC_ASSETS, run_metadata
from etl_project.devtools.demo_locations import demo_instance
from etl_project.devtools.demo_sync import extract_counts
from etl_project.devtools.wiring import ADMIN_PARAM, sandbox_locations_resources
from etl_project.load.guard import ALLOW_MASS_CHANGE_TAG

QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
LANDED = {
    "ghl_contacts": "HighLevel contacts",
    "sendowl_orders": "SendOwl orders",
    "sendapp_contacts": "SendApp contacts",
}


class Onboarding:
    def __init__(
        self, location_id: str, locations_file: str, urls: dict[str, str], admin: dict[str, str], fast: bool
    ) -> None:
        self.location_id, self.admin = location_id, admin
        self.resources = sandbox_locations_resources(urls, locations_file, fast_limits=fast)
        self.sync_config = SyncConfigResource(locations_file=locations_file)
        self.instance = demo_instance()
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        # One write per line: the story's process writes to the same terminal.
        print(f"   [{self.location_id} +{time.monotonic() - self.started:5.1f}s] {text}", flush=True)

    def writes(self) -> dict[str, int]:
        """Write requests this location's own accounts have answered so far."""
        out = {}
        for name, url in self.admin.items():
            stats = httpx.get(f"{url}/_sandbox/stats", params={ADMIN_PARAM[name]: self.location_id}, timeout=10)
            out[name] = int(stats.raise_for_status().json()["write_requests"])
        return out

    def extract(self, what: str, **kwargs: Any) -> bool:
        self.say(f"{what}: started")
        started = time.monotonic()
        result = dg.materialize(
            EXTRACT_ASSETS,
            resources=self.resources,
            instance=self.instance,
            run_config=QUIET,
            raise_on_error=False,
            **kwargs,
        )
        counts = extract_counts(result)
        read = ", ".join(f"{counts[k]['records']} {name}" for k, name in LANDED.items() if k in counts)
        requests = sum(c["requests"] for c in counts.values())
        status = "ok" if result.success else "FAILED"
        seconds = time.monotonic() - started
        self.say(f"{what}: run {result.run_id[:8]} {status} in {seconds:.1f}s: read {read}; {requests} API requests")
        return result.success

    def sync(self, what: str, tags: dict[str, str]) -> bool:
        self.say(f"{what}: started")
        started, before = time.monotonic(), self.writes()
        result = dg.materialize(
            SYNC_ASSETS,
            resources={**self.resources, "sync_config": self.sync_config},
            instance=self.instance,
            run_config=QUIET,
            tags=tags,
            raise_on_error=False,
        )
        after = self.writes()
        people = run_metadata(result).get("golden_contacts", {}).get("people", "?")
        sent = ", ".join(f"{name} {after[name] - before[name]}" for name in after)
        status = "ok" if result.success else "FAILED"
        blocked = [c.check_name for c in result.get_asset_check_evaluations() if not c.passed]
        note = f" (checks failed: {', '.join(sorted(set(blocked)))})" if blocked else ""
        self.say(
            f"{what}: run {result.run_id[:8]} {status} in {time.monotonic() - started:.1f}s: {people} people; "
            f"write requests at its own accounts: {sent}{note}"
        )
        return result.success

    def run(self) -> bool:
        scope = location_tag(self.location_id)
        today = datetime.now(UTC).date()
        first = max(today - timedelta(days=91), datetime.fromisoformat(settings.partitions_start_date()).date())
        history = {**partition_range_tags(first.isoformat(), today.isoformat()), MODE_TAG: "full", **scope}
        # A new location's platforms disagree on many records: its first sync is approved in advance.
        approved = {**scope, ALLOW_MASS_CHANGE_TAG: "true"}
        ok = self.extract("backfill of the last 91 days (one run)", tags=history) and self.sync(
            "first sync (bulk approved in advance)", approved
        )
        self.say(f"done in {time.monotonic() - self.started:.1f}s" if ok else "FAILED")
        return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("location_id")
    parser.add_argument("--locations-file", required=True)
    parser.add_argument("--urls", required=True, help="JSON: platform -> API base URL")
    parser.add_argument("--admin", required=True, help="JSON: platform -> the stand-in's server root")
    parser.add_argument("--real-limits", action="store_true", help="the stand-ins keep the platforms' real limits")
    options = parser.parse_args()
    urls, admin = json.loads(options.urls), json.loads(options.admin)
    onboarding = Onboarding(options.location_id, options.locations_file, urls, admin, not options.real_limits)
    return 0 if onboarding.run() else 1


if __name__ == "__main__":
    sys.exit(main())
