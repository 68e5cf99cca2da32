"""Starting states made once per test session and shared by every pytest-xdist worker.

A state (the sandboxes' records, the warehouse file they were landed in, and what the run that made it
materialized) is made by the first worker that needs it, under a file lock in the session's temporary folder; a
worker that needs it while it is being made waits on the lock, then loads it from disk. Without workers, the session
makes it once in its own temporary folder.
"""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from filelock import FileLock

from etl_project.sandbox.server import Sandbox, SandboxConfig, SandboxState

Step = Callable[[Sandbox, dict[str, Any]], dg.ExecuteInProcessResult]
Resources = Callable[[Sandbox, Path], dict[str, Any]]


@dataclass(frozen=True)
class RecordedRun:
    """What tests read of the run that made a state: whether it succeeded and what it materialized. Unlike a live
    `ExecuteInProcessResult`, it can be written to disk for the other workers."""

    success: bool
    events: Sequence[dg.DagsterEvent]

    @classmethod
    def of(cls, result: dg.ExecuteInProcessResult) -> RecordedRun:
        return cls(result.success, list(result.get_asset_materialization_events()))

    def get_asset_materialization_events(self) -> Sequence[dg.DagsterEvent]:
        return self.events

    def asset_materializations_for_node(self, node_name: str) -> list[dg.AssetMaterialization]:
        return [e.materialization for e in self.events if e.node_name == node_name]


@dataclass(frozen=True)
class Saved:
    """A state tests start from: the sandboxes' records, the warehouse file they were landed in (never written
    after it is saved: each test gets a copy), and the run that made it."""

    state: SandboxState
    warehouse: Path
    result: RecordedRun


def start_from(sandbox: Sandbox, resources: dict[str, Any], saved: Saved) -> None:
    """Put a saved state's records in the test's sandbox and a copy of its warehouse under the test's resources."""
    sandbox.restore(saved.state)
    for suffix in ("", ".wal"):
        if (source := Path(f"{saved.warehouse}{suffix}")).exists():
            shutil.copyfile(source, f"{resources['duckdb'].database}{suffix}")


def shared_folder(factory: pytest.TempPathFactory) -> Path:
    """The session's temporary folder all workers see (each worker's own is one level below it)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def made_once(
    factory: pytest.TempPathFactory,
    name: str,
    config: SandboxConfig,
    resources_for: Resources,
    start: Saved | None,
    step: Step,
) -> Saved:
    """State `name`: `step` run once from `start` (or the fresh seed) in a sandbox of its own, for every worker."""
    folder = shared_folder(factory) / f"state-{name}"
    saved_file = folder / "saved.pickle"
    with FileLock(f"{folder}.lock"):
        if saved_file.exists():
            with saved_file.open("rb") as f:
                loaded: Saved = pickle.load(f)
            return loaded
        folder.mkdir(exist_ok=True)
        database = folder / "w.duckdb"
        with Sandbox(config) as sb:
            resources = resources_for(sb, database)
            if start is not None:
                start_from(sb, resources, start)
            result = step(sb, resources)
            assert result.success
            saved = Saved(sb.snapshot(), database, RecordedRun.of(result))
        partial = folder / "saved.pickle.partial"
        with partial.open("wb") as f:
            pickle.dump(saved, f)
        partial.replace(saved_file)  # whole or absent, even if this worker dies while writing
        return saved
