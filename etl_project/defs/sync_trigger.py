"""The sync follows every extraction, however it was started: a schedule, a backfill launched from the asset graph
(Dagster's own asset job), a manual materialization in the UI, or the CLI.

The sensor watches what was *materialized* (the event log of the extract group), not which job ran it, so no way
of starting an extraction escapes it. Extractions that are still running are waited for, and everything that
finished since the last tick is followed by one sync run (bursts coalesce).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import dagster as dg

from etl_project import settings
from etl_project.defs.location_scope import LOCATION_TAG, location_tag
from etl_project.defs.partitions import MODE_TAG
from etl_project.defs.sync_job import sync_job

EXTRACT = dg.AssetSelection.groups("extract")
AFTER_TAG = "etl/after-runs"  # how many extraction runs a sync follows, and the newest one


@dataclass
class TriggerCursor:
    """Event-log position already read, and extraction runs seen there that had not finished yet."""

    after: int = 0
    waiting: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: str | None) -> TriggerCursor:
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(int(data.get("after", 0)), list(data.get("waiting", [])))

    def dump(self) -> str:
        return json.dumps({"after": self.after, "waiting": sorted(self.waiting)})


def _new_extraction_runs(context: dg.SensorEvaluationContext, after: int) -> tuple[set[str], int]:
    """Runs that materialized an extract asset after the cursor, and the newest storage id seen."""
    assert context.repository_def is not None
    keys = EXTRACT.resolve(context.repository_def.asset_graph)
    runs: set[str] = set()
    newest = after
    for key in keys:
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, after_storage_id=after), limit=10_000, ascending=True
        ).records  # oldest first: a burst beyond the limit is read on the next tick, never skipped
        for record in records:
            runs.add(record.run_id)
            newest = max(newest, record.storage_id)
    return runs, newest


@dg.sensor(
    job=sync_job,
    minimum_interval_seconds=settings.sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After extract assets are materialized by any run (schedule, backfill, UI, CLI) and that run has "
    "finished, starts one sync run; the nightly (full) mode carries over so deletions are checked.",
)
def sync_after_extract(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    cursor = TriggerCursor.parse(context.cursor)
    fresh, newest = _new_extraction_runs(context, cursor.after)
    candidates = fresh | set(cursor.waiting)
    if not candidates:
        return dg.SkipReason("no extraction since the last sync")
    runs = {r.run_id: r for r in context.instance.get_runs(dg.RunsFilter(run_ids=sorted(candidates)))}
    # A run that vanished (deleted from the UI) counts as finished; its materializations stand.
    done = sorted(rid for rid in candidates if rid not in runs or runs[rid].is_finished)
    waiting = sorted(candidates - set(done))
    next_cursor = TriggerCursor(newest, waiting).dump()
    if not done:
        return dg.SensorResult(
            skip_reason=f"waiting for {len(waiting)} extraction run(s) to finish", cursor=next_cursor
        )
    # One sync per location whose extractions finished (a run without the tag: the one-location set-up).
    by_location: dict[str | None, list[str]] = {}
    for rid in done:
        by_location.setdefault(runs[rid].tags.get(LOCATION_TAG) if rid in runs else None, []).append(rid)
    requests = [_sync_request(location, rids, runs) for location, rids in sorted(by_location.items(), key=str)]
    return dg.SensorResult(run_requests=requests, cursor=next_cursor)


def _sync_request(location: str | None, done: list[str], runs: dict[str, dg.DagsterRun]) -> dg.RunRequest:
    full = any(runs[rid].tags.get(MODE_TAG) == "full" for rid in done if rid in runs)
    key = hashlib.sha256(" ".join(done).encode()).hexdigest()[:16]
    return dg.RunRequest(
        run_key=f"sync-{key}",
        tags={
            MODE_TAG: "full" if full else "incremental",
            AFTER_TAG: f"{len(done)}: {done[-1]}",
            **location_tag(location),
        },
    )
