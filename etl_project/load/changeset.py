"""One target's changeset: the candidates the warehouse holds, the operations their golden records need
(`sync.plan`), and the plan stored in the outbox before any call. The `*_changeset` assets and
`bench/plan_bench.py` both plan through `plan_changeset`, so the benchmark measures what a run does."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from etl_project.sync.config import SyncConfig, TargetConfig
from etl_project.sync.plan import CREATE_KEYS, Operation, TargetState, expected_after, plan_target
from etl_project.warehouse.outbox import Outbox, plan_frame

# target platform → the flow that feeds it
TARGET_FLOWS = {"sendapp": "highlevel_contacts_to_sendapp", "highlevel": "sendapp_contacts_to_highlevel"}
KINDS = ("create", "update", "delete")
# Wraps each planning step by name (candidates, plan_target, frame, store_plan): the benchmark times them.
Step = Callable[[str], AbstractContextManager[object]]


def _untimed(_name: str) -> AbstractContextManager[object]:
    return nullcontext()


@dataclass(frozen=True)
class Scope:
    """Who may be planned on a target: the people another flow needs created there even in update-only mode
    (SendOwl buyers, flow 3), and the candidate query's filters."""

    creatable: frozenset[str]
    can_create: bool
    needs_phone: bool


@dataclass(frozen=True)
class Changeset:
    """What planning one target did: its operations, the people considered, and what the outbox took."""

    platform: str
    operations: tuple[Operation, ...] = ()
    candidates: int = 0
    blocked_creates: int = 0  # people not created because another person's record holds their email or phone
    new_in_outbox: int = 0
    superseded: int = 0
    skipped: str | None = None  # why nothing was planned

    def by_kind(self) -> dict[str, int]:
        return {kind: sum(1 for o in self.operations if o.kind == kind) for kind in KINDS}


def target_config(platform: str, config: SyncConfig) -> TargetConfig | None:
    """The target's configuration when its flow is on and it is configured; None: nothing is planned for it."""
    target: TargetConfig | None = config.targets.get(platform)  # type: ignore[call-overload]
    return target if target is not None and getattr(config.flows, TARGET_FLOWS[platform]) else None


def planning_scope(outbox: Outbox, platform: str, target: TargetConfig, config: SyncConfig) -> Scope:
    # Flow 3 finds or creates each buyer's HighLevel contact, even when HighLevel is otherwise update-only.
    flow3 = platform == "highlevel" and config.flows.sendowl_purchases_to_highlevel
    buyers = frozenset(outbox.buyers(config.purchases.states)) if flow3 else frozenset()
    return Scope(buyers, target.mode != "update_only" or bool(buyers), "phone" in CREATE_KEYS.get(platform, ()))


def plan_changeset(outbox: Outbox, platform: str, config: SyncConfig, run_id: str, step: Step = _untimed) -> Changeset:
    """Plan `platform` against its freshest known records and store the plan (in dry-run mode only logged)."""
    target = target_config(platform, config)
    if target is None:
        return Changeset(platform, skipped="flow off or no target configured")
    with outbox.warehouse.held():  # warehouse-only: one opening of the file for the whole plan
        with step("candidates"):
            scope = planning_scope(outbox, platform, target, config)
            golden, states = outbox.plan_candidates(
                platform, can_create=scope.can_create, needs_phone=scope.needs_phone
            )
        with step("plan_target"):
            operations = plan_target(platform, target, golden, states, scope.creatable)
        with step("frame"):
            expected = {
                o.idempotency_key: expected_after(o, states.get(o.person_id, TargetState())) for o in operations
            }
            planned = plan_frame(operations, expected)
        with step("store_plan"):
            new, superseded = outbox.store_plan(platform, planned, run_id, config.dry_run)
    blocked = sum(1 for s in states.values() if s.key_taken)
    return Changeset(platform, tuple(operations), len(golden), blocked, new, superseded)
