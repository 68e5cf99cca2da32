"""A small code location for the Postgres instance tests, served by a real `dagster api grpc` server to a real
`dagster-daemon`: a sensor that queues runs for two locations, a schedule, and a job whose runs overlap on purpose.

Each run carries `etl/location`, as every per-location run of the product will. The job's asset waits (with a
deadline) until a run of another location is in progress too, so "A and B overlap" does not depend on two processes
happening to start together on a busy machine; when no other location has work left, it finishes at once.
"""

import time

import dagster as dg

LOCATION_TAG = "etl/location"
SENSOR_RUNS = {"A": 2, "B": 1}  # queued at once by the sensor's first tick: A's two in turn, B's beside them
SCHEDULE_LOCATION = "S"  # the schedule's runs: a location of their own, so they never count as A's or B's
SCHEDULE_CRON = "0 0 * * *"  # daily: the tests replay one missed tick, and no second comes
COMPANY_DEADLINE_S = 120.0  # generous: a busy machine can take long to start the other run
UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _other_locations_running(instance: dg.DagsterInstance, me: str) -> tuple[bool, bool]:
    """(another location's run is in progress, another location still has unfinished runs)."""
    others = [loc for loc in SENSOR_RUNS if loc != me]
    records = instance.get_run_records(dg.RunsFilter(tags={LOCATION_TAG: others}, statuses=UNFINISHED))
    started = any(r.dagster_run.status == dg.DagsterRunStatus.STARTED for r in records)
    return started, bool(records)


@dg.asset
def probe_source() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


@dg.asset(deps=[probe_source])
def location_probe(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Holds its run open until a run of another location is in progress (or none is left to wait for)."""
    me = context.run.tags.get(LOCATION_TAG, "")
    end = time.monotonic() + COMPANY_DEADLINE_S
    company = False
    while time.monotonic() < end:
        company, pending = _other_locations_running(context.instance, me)
        if company or not pending:
            break
        time.sleep(0.2)
    return dg.MaterializeResult(metadata={"location": me, "overlapped": company})


probe_job = dg.define_asset_job("probe_job", selection=[probe_source, location_probe])


@dg.sensor(job=probe_job, minimum_interval_seconds=1, default_status=dg.DefaultSensorStatus.RUNNING)
def locations_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    """Queues every location's runs on its first tick, then has nothing more to ask."""
    if context.cursor:
        return dg.SkipReason("every location's runs were requested")
    requests = [
        dg.RunRequest(run_key=f"{location}-{n}", tags={LOCATION_TAG: location})
        for location, count in SENSOR_RUNS.items()
        for n in range(count)
    ]
    return dg.SensorResult(run_requests=requests, cursor="requested")


@dg.schedule(job=probe_job, cron_schedule=SCHEDULE_CRON, execution_timezone="UTC")
def probe_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(tags={LOCATION_TAG: SCHEDULE_LOCATION})


defs = dg.Definitions(
    assets=[probe_source, location_probe],
    jobs=[probe_job],
    sensors=[locations_sensor],
    schedules=[probe_schedule],
    executor=dg.in_process_executor,  # as the product's runs: one process per run, no process per step
)
