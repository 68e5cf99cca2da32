"""The contact executor's exactly-once rules, one test each, on a temporary DuckDB with a fake writer (no sandbox,
no Dagster). The fake keeps its records in memory; a scripted error can follow the write (the answer was lost)
or replace it (the platform refused it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from etl_project.load.executor import ExecutionReport, execute
from etl_project.load.writers import LOOKUP_MARGIN, Written
from etl_project.platforms.errors import (
    AuthenticationError,
    ConflictError,
    DailyBudgetExhaustedError,
    InvalidRequestError,
    PlatformError,
    RateLimitError,
    ServerError,
)
from etl_project.warehouse.outbox import PLAN_COLUMNS, Outbox
from etl_tests.bad_input_helpers import make_warehouse

V1 = datetime(2026, 11, 20, 12, tzinfo=UTC)


@dataclass
class Record:
    number: str
    fields: dict[str, Any]
    made_at: datetime


@dataclass
class FakeWriter:
    """SendApp-like: the number is unique (409), and the look-up finds a record made since the first attempt."""

    platform: str = "sendapp"
    records: dict[str, Record] = field(default_factory=dict)
    errors: dict[str, list[tuple[PlatformError, bool]]] = field(default_factory=dict)  # call → (error, applied)
    calls: list[str] = field(default_factory=list)
    hidden_lookups: int = 0  # the first look-ups miss (a search index behind the write)

    def _fault(self, call: str) -> tuple[PlatformError, bool] | None:
        queue = self.errors.get(call) or []
        return queue.pop(0) if queue else None

    def create(self, payload: Mapping[str, Any]) -> Written:
        self.calls.append("create")
        fault = self._fault("create")
        if fault and not fault[1]:
            raise fault[0]
        if any(r.number == payload["number"] for r in self.records.values()):
            raise ConflictError(self.platform, "number taken", status_code=409)
        target_id = f"sa-{len(self.records) + 1}"
        self.records[target_id] = Record(str(payload["number"]), dict(payload), datetime.now(UTC))
        if fault:
            raise fault[0]
        return Written(target_id, V1)

    def update(self, target_id: str, payload: Mapping[str, Any]) -> Written:
        self.calls.append(f"update {target_id}")
        fault = self._fault("update")
        if fault:
            raise fault[0]
        self.records[target_id].fields.update(payload)
        return Written(target_id, V1 + timedelta(minutes=1))

    def delete(self, target_id: str) -> None:
        self.calls.append(f"delete {target_id}")
        self.records.pop(target_id, None)

    def lookup(self, payload: Mapping[str, Any], since: datetime | None) -> str | None:
        self.calls.append("lookup")
        if self.hidden_lookups:
            self.hidden_lookups -= 1
            return None
        start = (since or datetime.now(UTC)) - LOOKUP_MARGIN
        ours = [i for i, r in self.records.items() if r.number == payload["number"] and r.made_at >= start]
        return ours[0] if ours else None


def _plan(outbox: Outbox, *rows: tuple[str, str, str | None, dict[str, Any]], person: str | None = None) -> None:
    """(key, operation, target id, fields) rows, for `person` (default: p-<key>)."""
    frame = pd.DataFrame(
        [
            (
                key,
                "sendapp",
                op,
                person or f"p-{key}",
                target,
                json.dumps(f),
                json.dumps(f),
                json.dumps(f),
                json.dumps(sorted(f)),
            )
            for key, op, target, f in rows
        ],
        columns=list(PLAN_COLUMNS),
        dtype=object,
    )
    outbox.store_plan("sendapp", frame, "plan", dry_run=False)


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(make_warehouse(tmp_path / "w.duckdb"))


def _status(outbox: Outbox, key: str) -> tuple[str, int, str | None]:
    ((status, attempts, error),) = outbox.warehouse.query(
        "SELECT status, attempts, last_error FROM outbox WHERE idempotency_key = $key", {"key": key}
    )
    return str(status), int(attempts), error


def _run(outbox: Outbox, writer: FakeWriter, run: str = "run-1", max_attempts: int = 3) -> ExecutionReport:
    return execute(outbox, writer, run, max_attempts)


NEW = {"number": "+4915100000001", "first_name": "Ada"}


def test_an_acknowledged_write_advances_the_snapshot_and_links_the_created_record(outbox: Outbox) -> None:
    _plan(outbox, ("k1", "create", None, NEW))
    report = _run(outbox, writer := FakeWriter())
    assert report.counts[("create", "acknowledged")] == 1 and writer.calls == ["create"]
    assert _status(outbox, "k1")[0] == "acknowledged"
    ((target, fields, version),) = outbox.warehouse.query(
        "SELECT target_id, fields, target_version FROM target_snapshots WHERE person_id = 'p-k1'"
    )
    assert target == "sa-1" and json.loads(fields) == NEW and version == V1
    assert outbox.warehouse.query("SELECT matched_by FROM identity_links WHERE platform_id = 'sa-1'") == [("created",)]
    assert outbox.pending("sendapp", 3) == []


def test_a_create_whose_answer_was_lost_is_looked_up_and_adopted_not_made_twice(outbox: Outbox) -> None:
    _plan(outbox, ("k1", "create", None, NEW))
    writer = FakeWriter(errors={"create": [(ServerError("sendapp", "bad gateway", status_code=502), True)]})
    assert _run(outbox, writer).counts[("create", "failed")] == 1  # applied, but the answer was a 502
    report = _run(outbox, writer, "run-2")
    assert report.adopted == 1 and report.counts[("create", "acknowledged")] == 1
    assert writer.calls == ["create", "lookup", "update sa-1"] and list(writer.records) == ["sa-1"]
    assert outbox.warehouse.query("SELECT target_id FROM target_snapshots") == [("sa-1",)]


def test_a_409_on_create_adopts_our_own_record(outbox: Outbox) -> None:
    _plan(outbox, ("k1", "create", None, NEW))
    lost = (ServerError("sendapp", "timeout", status_code=504), True)
    writer = FakeWriter(errors={"create": [lost]}, hidden_lookups=1)  # the first look-up misses the record
    _run(outbox, writer)
    report = _run(outbox, writer, "run-2")
    assert writer.calls == ["create", "lookup", "create", "lookup", "update sa-1"]
    assert report.adopted == 1 and _status(outbox, "k1")[0] == "acknowledged" and len(writer.records) == 1


def test_a_409_on_create_never_adopts_another_persons_record(outbox: Outbox) -> None:
    writer = FakeWriter()
    writer.records["sa-9"] = Record(NEW["number"], {"first_name": "Someone"}, V1 - timedelta(days=30))
    _plan(outbox, ("k1", "create", None, NEW))
    writer.errors["create"] = [(RateLimitError("sendapp", "slow down", status_code=429), False)]
    _run(outbox, writer)  # refused: the row has a first attempt now, so the 409 below is looked up
    report = _run(outbox, writer, "run-2")
    assert report.adopted == 0 and report.counts[("create", "dead")] == 1
    assert _status(outbox, "k1")[0] == "dead" and writer.records["sa-9"].fields == {"first_name": "Someone"}
    assert "update sa-9" not in writer.calls


def test_a_refusal_is_final(outbox: Outbox) -> None:
    _plan(outbox, ("k1", "update", "sa-1", {"first_name": "Ada"}))
    writer = FakeWriter(errors={"update": [(InvalidRequestError("sendapp", "bad name", status_code=422), False)]})
    writer.records["sa-1"] = Record("+1", {}, V1)
    report = _run(outbox, writer, max_attempts=5)
    assert report.counts[("update", "dead")] == 1
    status, attempts, error = _status(outbox, "k1")
    assert (status, attempts) == ("dead", 1) and "bad name" in (error or "")
    assert outbox.pending("sendapp", 5) == []
    assert outbox.warehouse.query("SELECT count(*) FROM target_snapshots") == [(0,)], "no snapshot for a refusal"


def test_a_transient_error_is_retried_until_max_attempts_then_dead(outbox: Outbox) -> None:
    _plan(outbox, ("k1", "update", "sa-1", {"first_name": "Ada"}))
    writer = FakeWriter(errors={"update": [(ServerError("sendapp", "down", status_code=503), False)] * 3})
    writer.records["sa-1"] = Record("+1", {}, V1)
    for run, expected in (("run-1", "failed"), ("run-2", "failed"), ("run-3", "dead")):
        assert _run(outbox, writer, run).counts[("update", expected)] == 1
        assert _status(outbox, "k1")[:2] == (expected, int(run[-1]))
    assert _run(outbox, writer, "run-4").counts == {} and writer.calls == ["update sa-1"] * 3


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        (DailyBudgetExhaustedError("sendapp", "40 requests left today"), False),
        (AuthenticationError("sendapp", "invalid token", status_code=401), True),
    ],
)
def test_an_exhausted_budget_or_refused_credentials_stop_the_run(
    outbox: Outbox, error: PlatformError, refused: bool
) -> None:
    _plan(outbox, ("k1", "update", "sa-1", {"first_name": "A"}), ("k2", "update", "sa-2", {"first_name": "B"}))
    writer = FakeWriter(errors={"update": [(error, False)]})
    writer.records.update({"sa-1": Record("+1", {}, V1), "sa-2": Record("+2", {}, V1)})
    report = _run(outbox, writer, max_attempts=5)
    assert report.stopped and str(error) in report.stopped and report.credentials_refused is refused
    assert writer.calls == ["update sa-1"], "nothing after the stop"
    assert _status(outbox, "k1")[0] == "failed" and _status(outbox, "k2") == ("planned", 0, None)


def test_a_delete_drops_the_snapshot(outbox: Outbox) -> None:
    _plan(outbox, ("k1", "create", None, NEW))
    _run(outbox, writer := FakeWriter())
    _plan(outbox, ("k2", "delete", "sa-1", {}), person="p-k1")
    assert _run(outbox, writer, "run-2").counts[("delete", "acknowledged")] == 1
    assert writer.records == {} and outbox.warehouse.query("SELECT count(*) FROM target_snapshots") == [(0,)]
