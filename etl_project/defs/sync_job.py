"""The sync job: reconcile, plan, check and write back (groups `reconcile` and `load`)."""

import dagster as dg

# Two syncs planning and writing the same outboxes at once would race: the instance runs them one at a time.
SYNC_TAG = "etl/sync"

sync_job = dg.define_asset_job(
    "sync_job",
    selection=dg.AssetSelection.groups("reconcile", "load"),
    description="Reconcile identities, plan each target's changes, check them, and write them back.",
    tags={SYNC_TAG: "write-back"},  # dagster.yaml queues these one at a time
)
