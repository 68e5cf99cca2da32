"""Plan the activity flows (3 to 6) into the activity outbox: one operation per source event, stored once, ever."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from etl_project.sync.activities import ActivityOp, appointment_ops, note_ops, purchase_ops, welcome_ops
from etl_project.sync.config import SyncConfig
from etl_project.sync.tasks import task_agreements, task_ops
from etl_project.warehouse.activities import ActivityOutbox
from etl_project.warehouse.task_pairs import store_agreements, supersede_task_updates, task_facts


@dataclass(frozen=True)
class ActivityPlan:
    planned: int
    new: list[tuple[str, str, str, str, str]]  # (key, platform, person, operation, flow) of rows stored now
    tasks: dict[str, int] = field(default_factory=dict)  # flow 4's bookkeeping: superseded updates, agreed bases

    def metadata(self, dry_run: bool) -> dict[str, int | bool]:
        per_flow = Counter(f"new.{flow}.{operation}" for _key, _platform, _person, operation, flow in self.new)
        return {"planned": self.planned, "new": len(self.new), "dry_run": dry_run, **per_flow, **self.tasks}


def plan_activities(outbox: ActivityOutbox, config: SyncConfig, run_id: str) -> ActivityPlan:
    """The operations the enabled flows need, stored in the outbox (in dry-run mode only logged)."""
    warehouse = outbox.warehouse
    with warehouse.held():  # warehouse-only: one opening of the file for the whole plan
        plan: list[ActivityOp] = []
        tasks_meta: dict[str, int] = {}
        if config.flows.sendowl_purchases_to_highlevel:
            plan += purchase_ops(outbox.purchase_facts(), config.purchases)
        if config.flows.highlevel_activity_to_sendapp:
            if config.activity.notes:
                plan += note_ops(outbox.note_facts(), config.activity)
            if config.activity.appointments:
                plan += appointment_ops(outbox.appointment_facts(), config.activity)
        if config.flows.highlevel_tasks_to_sendapp:
            tasks = task_facts(warehouse)
            task_plan = task_ops(tasks, config.tasks)
            plan += task_plan
            if not config.dry_run:
                considered: list[tuple[str, str | None]] = [(t.task_id, None) for t in tasks if t.sendapp is not None]
                considered += [(o.source_ref, o.key) for o in task_plan if o.operation == "update_task"]
                tasks_meta["tasks.superseded"] = supersede_task_updates(warehouse, considered, run_id)
                tasks_meta["tasks.bases_agreed"] = store_agreements(warehouse, task_agreements(tasks, config.tasks))
        if config.flows.welcome_message:
            plan += welcome_ops(outbox.welcome_facts(), config.welcome)
        new = outbox.store(plan, run_id, config.dry_run)
    return ActivityPlan(len(plan), new, tasks_meta)
