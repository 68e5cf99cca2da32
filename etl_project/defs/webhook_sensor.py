"""Drain the webhook inbox into targeted runs: every 30 s (WEBHOOK_SENSOR_INTERVAL_SECONDS) the sensor claims the
pending events, coalesces them by record, and launches one `webhook_sync_job` run for them.

Coalescing: every event naming the same record is one read (`Targets.from_events`), and one tick takes up to
`MAX_EVENTS` events into a single run, so a burst of 500 events is one run (or a few, when it spans ticks). While a
launched run has not finished, no new events are claimed (`MAX_IN_FLIGHT`): they wait in the inbox and the next run
takes them all, which is what keeps a burst to a few runs.

Done-marking: the cursor keeps, for each launched run (found by its `etl/webhook-batch` tag), the inbox claim ids it
carries. Each tick looks at those runs first: a run that succeeded completes its claims; one that failed or was
canceled releases them (the events are pending again and the next claim retries them). A claim the sensor lost
track of expires in the inbox after `claim_timeout` and is claimed again: delivery to runs is at-least-once, and
the runs are idempotent.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from etl_project import settings
from etl_project.defs.location_scope import location_tag
from etl_project.defs.webhook_run import run_config, webhook_sync_job
from etl_project.extract.targeted import Targets
from etl_project.tenants.resolve import tenancy
from etl_project.webhooks import Inbox, InboxEvent
from etl_project.webhooks.config import inbox_path, sensor_interval_seconds

BATCH_TAG = "etl/webhook-batch"  # the first claim id of the run's events: finds the run again
EVENTS_TAG = "etl/webhook-events"
CLAIM_LIMIT = 500  # rows per inbox claim
MAX_EVENTS = 5_000  # events one tick takes into one run
MAX_IN_FLIGHT = 1
CLAIM_TIMEOUT = 3_600.0  # a claim older than this is claimable again (a run lost or stuck for an hour)


@dataclass
class HookCursor:
    """Launched batches not yet settled: batch key → (its claim ids, when it was launched)."""

    pending: dict[str, list[str]] = field(default_factory=dict)
    launched: dict[str, float] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)  # runs launched for the batch (one per location)

    @classmethod
    def parse(cls, raw: str | None) -> HookCursor:
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(dict(data.get("pending", {})), dict(data.get("launched", {})), dict(data.get("runs", {})))

    def dump(self) -> str:
        return json.dumps({"pending": self.pending, "launched": self.launched, "runs": self.runs}, sort_keys=True)

    def drop(self, key: str) -> None:
        self.pending.pop(key, None)
        self.launched.pop(key, None)
        self.runs.pop(key, None)


def _settle(context: dg.SensorEvaluationContext, inbox: Inbox, cursor: HookCursor) -> dict[str, int]:
    """Complete the claims of runs that succeeded, release those of runs that failed; count what happened."""
    settled = {"completed": 0, "released": 0}
    for key, claims in sorted(cursor.pending.items()):
        runs = context.instance.get_runs(dg.RunsFilter(tags={BATCH_TAG: key}))
        if len(runs) < cursor.runs.get(key, 1):
            # Requested but not created yet (the daemon launches after the tick), or never created: once the
            # claims have expired in the inbox they are claimable again, so stop tracking them.
            if time.time() - cursor.launched.get(key, 0.0) > CLAIM_TIMEOUT:
                cursor.drop(key)
            continue
        if not all(run.is_finished for run in runs):
            continue
        if all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs):
            settled["completed"] += sum(inbox.complete(claim) for claim in claims)
        else:
            settled["released"] += sum(inbox.release(claim) for claim in claims)
        cursor.drop(key)
    return settled


def _claim(inbox: Inbox, limit: int) -> tuple[list[str], list[InboxEvent]]:
    claims: list[str] = []
    events: list[InboxEvent] = []
    while len(events) < limit:
        batch = inbox.claim(min(CLAIM_LIMIT, limit - len(events)))
        if not batch.events:
            break
        claims.append(batch.claim_id)
        events.extend(batch.events)
    return claims, events


def drain(
    context: dg.SensorEvaluationContext,
    path: Path,
    *,
    max_events: int = MAX_EVENTS,
    max_in_flight: int = MAX_IN_FLIGHT,
) -> dg.SensorResult | dg.SkipReason:
    """One tick against the inbox at `path` (the sensor's body; tests call it with a temporary inbox)."""
    cursor = HookCursor.parse(context.cursor)
    if not path.exists():
        return dg.SkipReason(f"no webhook inbox at {path} (is the receiver running?)")
    inbox = Inbox(path, claim_timeout=CLAIM_TIMEOUT)
    try:
        settled = _settle(context, inbox, cursor)
        if len(cursor.pending) >= max_in_flight:
            return dg.SensorResult(
                skip_reason=f"waiting for {len(cursor.pending)} webhook run(s) to finish ({settled})",
                cursor=cursor.dump(),
            )
        claims, events = _claim(inbox, max_events)
        if not events:
            return dg.SensorResult(skip_reason=f"no new webhook events ({settled})", cursor=cursor.dump())
        groups = {loc: Targets.from_events(evs) for loc, evs in by_location(events).items()}
        groups = {loc: targets for loc, targets in groups.items() if targets}
        if not groups:
            # Only events that name nothing to re-read (location events, child events without a contact id).
            for claim in claims:
                inbox.complete(claim)
            return dg.SensorResult(
                skip_reason=f"{len(events)} event(s) named nothing to re-read (without a contact id or a known "
                "location: the scheduled sweep covers them)",
                cursor=cursor.dump(),
            )
    finally:
        inbox.close()
    key = claims[0]
    cursor.pending[key] = claims
    cursor.launched[key] = time.time()
    cursor.runs[key] = len(groups)
    reads = sum(t.reads for t in groups.values())
    context.log.info(f"{len(events)} webhook event(s) → {reads} read(s) in {len(groups)} run(s)")
    requests = [
        dg.RunRequest(
            run_key=f"webhooks-{key}" + (f"-{location}" if location else ""),
            run_config=run_config(targets),
            tags={BATCH_TAG: key, EVENTS_TAG: str(len(events)), **location_tag(location)},
        )
        for location, targets in sorted(groups.items(), key=lambda item: str(item[0]))
    ]
    return dg.SensorResult(run_requests=requests, cursor=cursor.dump())


def by_location(events: list[InboxEvent]) -> dict[str | None, list[InboxEvent]]:
    """The events of each location's run. One location (no locations file): one run for all of them. Many:
    each event goes to its location's run (HighLevel's `locationId`; SendOwl's from the path its shop posts
    to), if that location is synced."""
    path = settings.locations_file()
    if not path:
        return {None: events}
    active = set(tenancy(path).active_ids())
    groups: dict[str | None, list[InboxEvent]] = {}
    for event in events:
        if event.location_id in active:
            groups.setdefault(event.location_id, []).append(event)
    return groups


@dg.sensor(
    job=webhook_sync_job,
    minimum_interval_seconds=sensor_interval_seconds(os.environ),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Claims the webhook inbox's pending events, coalesces them by record and launches one targeted "
    "run (re-read those records, then sync); marks the events done when that run succeeded, hands them back "
    "when it failed.",
)
def webhook_inbox_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    return drain(context, inbox_path(os.environ))
