"""The sync follows every extraction, whichever job ran it, once that run has finished; bursts coalesce."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType, StepMaterializationData
from dagster_duckdb import DuckDBResource

from etl_project.definitions import defs
from etl_project.defs.onboarding import onboarding_backfill
from etl_project.defs.partitions import daily_partitions
from etl_project.defs.sendowl_assets import sendowl_customers
from etl_project.defs.sync_trigger import sync_after_extract


def _evaluate(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    return sync_after_extract(context)


def _extract(instance: dg.DagsterInstance, tmp_path: Path, tags: dict[str, str] | None = None) -> str:
    """A real extract-group materialization, by Dagster's ad-hoc asset job (as the UI and the CLI launch it)."""
    result = dg.materialize(
        [sendowl_customers],
        instance=instance,
        resources={"duckdb": DuckDBResource(database=str(tmp_path / "w.duckdb"))},
        tags=tags or {},
        **({"partition_key": "2026-11-20"} if sendowl_customers.partitions_def else {}),
    )
    assert result.success and result.dagster_run.job_name != "extract_job"
    return result.run_id


def test_any_extraction_run_is_followed_by_one_sync(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        assert isinstance(_evaluate(instance, None), dg.SkipReason)
        first = _extract(instance, tmp_path)
        second = _extract(instance, tmp_path, {"etl/mode": "full"})
        result = _evaluate(instance, None)
        assert isinstance(result, dg.SensorResult)
        (request,) = result.run_requests or []
        assert request.tags["etl/mode"] == "full"  # one of them was the nightly run: deletions get checked
        assert request.tags["etl/after-runs"].startswith("2: ")
        assert {first, second} and request.run_key
        # Nothing new: no second sync.
        again = _evaluate(instance, result.cursor)
        assert not getattr(again, "run_requests", None)


def test_each_locations_extractions_are_followed_by_that_locations_sync(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        _extract(instance, tmp_path, {"etl/location": "loc-a"})
        _extract(instance, tmp_path, {"etl/location": "loc-b", "etl/mode": "full"})
        _extract(instance, tmp_path, {"etl/location": "loc-a"})
        result = _evaluate(instance, None)
        assert isinstance(result, dg.SensorResult)
        requests = {r.tags["etl/location"]: r for r in result.run_requests or []}
        assert sorted(requests) == ["loc-a", "loc-b"]
        assert requests["loc-a"].tags["etl/after-runs"].startswith("2: ") and requests["loc-a"].tags["etl/mode"] == (
            "incremental"
        )
        assert requests["loc-b"].tags["etl/mode"] == "full"  # only loc-b's nightly run checks its deletions
        assert requests["loc-a"].run_key != requests["loc-b"].run_key


def test_a_running_extraction_is_waited_for(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        run = instance.add_run(dg.DagsterRun(job_name="__ASSET_JOB", run_id="backfill-still-running"))
        instance.handle_run_event(
            run.run_id, DagsterEvent(DagsterEventType.RUN_START.value, job_name=run.job_name, message="started")
        )
        event = DagsterEvent(
            DagsterEventType.ASSET_MATERIALIZATION.value,
            job_name=run.job_name,
            event_specific_data=StepMaterializationData(
                dg.AssetMaterialization("ghl_contacts", partition="2026-11-20")
            ),
        )
        instance.report_dagster_event(event, run.run_id)
        waiting = _evaluate(instance, None)
        assert isinstance(waiting, dg.SensorResult) and not waiting.run_requests
        assert "backfill-still-running" in (waiting.cursor or "")
        instance.handle_run_event(
            run.run_id, DagsterEvent(DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name, message="done")
        )
        done = _evaluate(instance, waiting.cursor)
        assert isinstance(done, dg.SensorResult) and len(done.run_requests or []) == 1
        assert done.run_requests[0].tags["etl/mode"] == "incremental"


def test_a_fresh_install_backfills_every_partition_once(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, definitions=defs)
        result = onboarding_backfill(context)
        assert isinstance(result, dg.SensorResult)
        (request,) = result.run_requests or []
        keys = daily_partitions.get_partition_keys()
        assert request.tags["dagster/asset_partition_range_start"] == keys[0]
        assert request.tags["dagster/asset_partition_range_end"] == keys[-1]
        again = onboarding_backfill(dg.build_sensor_context(instance=instance, cursor=result.cursor, definitions=defs))
        assert not getattr(again, "run_requests", None), "once, ever"
        # An instance that already extracted something is not onboarded again.
        _extract(instance, tmp_path)
        later = onboarding_backfill(dg.build_sensor_context(instance=instance, definitions=defs))
        assert not getattr(later, "run_requests", None)
