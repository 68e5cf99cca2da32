"""What stands between a plan and a target: the safety verdicts, with the approvals a person gave.

The mass-change guard stops what nobody asked for (a broken mapping, a wrong merge policy, a mass delete). The
normal consequence of a flow a person switched on (flow 3 tags every past buyer, flow 1 then copies the tags)
is approved once, from the UI, and never asked again for the same cause under the same configuration.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from etl_project.load import safety
from etl_project.sync.config import SyncConfig
from etl_project.warehouse import approvals
from etl_project.warehouse.store import Warehouse

APPROVE_TAG = "etl/approve"  # value: the approval id a blocked verdict names (several: comma-separated)
ALLOW_MASS_CHANGE_TAG = "etl/allow-mass-change"  # "true": let this run through whatever the guard stops (not stored)


def config_fingerprint(config: SyncConfig) -> str:
    """The parts of the configuration that decide what a plan changes: an approval holds only under them."""
    relevant = config.model_dump(
        mode="json", include={"flows", "merge", "targets", "platform_order", "default_region", "purchases"}
    )
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def approval_id(platform: str, causes: tuple[str, ...], fingerprint: str) -> str:
    return f"{platform}-" + hashlib.sha256(f"{fingerprint} {' '.join(causes)}".encode()).hexdigest()[:10]


def _allows_everything(tags: Mapping[str, str]) -> bool:
    return tags.get(ALLOW_MASS_CHANGE_TAG, "false").strip().lower() not in ("", "false", "0", "no")


def _named_approvals(tags: Mapping[str, str]) -> set[str]:
    return {v.strip() for v in tags.get(APPROVE_TAG, "").split(",") if v.strip()}


def how_to_approve(approval: str) -> str:
    return (
        f"To approve this change once (later plans with the same cause pass): in the Dagster UI open Jobs > "
        f"sync_job > Launchpad, add the tag {APPROVE_TAG} = {approval} and launch the run; or run "
        f'`dagster job launch -w workspace.yaml -j sync_job --tags \'{{"{APPROVE_TAG}": "{approval}"}}\'`. '
        "If the change is not expected, check the sync config's field mappings and merge policy instead."
    )


def write_verdict(
    warehouse: Warehouse, platform: str, config: SyncConfig, tags: Mapping[str, str], run_id: str
) -> safety.Verdict:
    """Whether `platform` may be written now. Records an approval the run's tags give for the current cause."""
    for verdict in (safety.unique_ids(warehouse, platform), safety.match_keys(warehouse, platform)):
        if not verdict.passed:
            return verdict
    return mass_change_verdict(warehouse, platform, config, tags, run_id)


def mass_change_verdict(
    warehouse: Warehouse, platform: str, config: SyncConfig, tags: Mapping[str, str], run_id: str
) -> safety.Verdict:
    fingerprint = config_fingerprint(config)
    approved = approvals.approved_causes(warehouse, platform, fingerprint)
    changes = approvals.pending_changes(warehouse, platform)
    granted: list[str] = []
    named = _named_approvals(tags)
    # An id named by the run but asked for earlier (the plan has moved on since) approves what it was asked for.
    for earlier, causes in approvals.blocked_causes(warehouse, platform, fingerprint).items():
        if earlier in named and not set(causes) <= approved:
            approvals.approve(warehouse, platform, causes, fingerprint, run_id, f"approved as {earlier}")
            approved = approved | set(causes)
            granted.append(earlier)
    # Judge again after each approval: approving the updates must never wave through deletes judged after them.
    while True:
        verdict = safety.judge_mass_change(changes, config.thresholds, approved)
        if verdict.passed or not verdict.approvable:
            break
        approval = approval_id(platform, verdict.approvable, fingerprint)
        if _allows_everything(tags):
            pass  # this run only: nothing is stored, so the guard asks again next time
        elif approval in named:
            approvals.approve(warehouse, platform, verdict.approvable, fingerprint, run_id, verdict.message)
        else:
            approvals.record_block(warehouse, platform, approval, verdict.approvable, fingerprint, verdict.message)
            return _blocked(platform, verdict, approval)
        approved = approved | set(verdict.approvable)
        granted.append(approval)
    if granted and verdict.passed:
        return safety.Verdict(True, f"approved by this run ({', '.join(granted)}): {verdict.message}", verdict.details)
    return verdict


def _blocked(platform: str, verdict: safety.Verdict, approval: str) -> safety.Verdict:
    message = (
        f"{platform}: blocked, nothing is written to {platform} until approved (other targets carry on): "
        f"{verdict.message}. {how_to_approve(approval)}"
    )
    return safety.Verdict(False, message, {**verdict.details}, verdict.approvable)
