"""Safety before any write: unique ids, match keys, the mass-change guard, and the real-write opt-in.

The same verdicts back the Dagster asset checks (shown in the UI) and are enforced inside each write asset, per
target: a blocked target writes nothing while the other targets carry on (`guard.py` adds approvals).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Set
from dataclasses import dataclass
from urllib.parse import urlsplit

from etl_project.sync.config import Thresholds
from etl_project.warehouse.approvals import PendingChanges
from etl_project.warehouse.sql import load_sql
from etl_project.warehouse.store import Warehouse

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Verdict:
    """A check's outcome. `approvable` lists the causes a person may approve once (only the mass-change guard has
    them); a failed verdict without them (duplicate ids, missing keys) cannot be overridden by any run tag."""

    passed: bool
    message: str
    details: dict[str, int | float]
    approvable: tuple[str, ...] = ()


def is_sandbox_url(url: str) -> bool:
    """The stand-ins only listen on loopback; any other host is a real platform."""
    host = urlsplit(url).hostname or ""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def real_write_refusal(platform: str, base_url: str, allow_real_writes: bool) -> str | None:
    if is_sandbox_url(base_url) or allow_real_writes:
        return None
    return (
        f"{platform}: refusing to write to a real platform ({urlsplit(base_url).hostname}) without the opt-in; "
        "set allow_real_writes = true in the sync config"
    )


def unique_ids(warehouse: Warehouse, platform: str) -> Verdict:
    problems = [r[0] for r in warehouse.query(load_sql("check_duplicate_links"), {"platform": platform})]
    message = "; ".join(problems) if problems else "every person has at most one record and every write one person"
    return Verdict(not problems, message, {"problems": len(problems)})


def match_keys(warehouse: Warehouse, platform: str) -> Verdict:
    people = [r[0] for r in warehouse.query(load_sql("check_missing_match_keys"), {"platform": platform})]
    if people:
        return Verdict(
            False, f"people without email or phone in the plan: {', '.join(people)}", {"people": len(people)}
        )
    return Verdict(True, "every planned person has an email or a phone", {"people": 0})


def judge_mass_change(changes: PendingChanges, thresholds: Thresholds, approved: Set[str] = frozenset()) -> Verdict:
    """Stop a plan that updates or deletes an implausible share of the target's records, unless a person approved
    its cause: updates of fields approved under this configuration are expected (a flow switched on), so only the
    others count; a batch of deletes is approved as that batch only."""
    unexplained = [f for f in changes.updates if not {f"update:{x}" for x in f} <= approved]
    delete_cause = "delete:" + hashlib.sha256(" ".join(sorted(changes.deletes)).encode()).hexdigest()[:12]
    deletes = 0 if delete_cause in approved else len(changes.deletes)
    details: dict[str, int | float] = {
        "updates": len(changes.updates),
        "unapproved": len(unexplained),
        "deletes": len(changes.deletes),
        "records": changes.records,
    }
    total = changes.records
    if total < thresholds.min_records_for_share:
        return Verdict(True, f"{total} records: below {thresholds.min_records_for_share}, shares not applied", details)
    update_share, delete_share = len(unexplained) / total, deletes / total
    details |= {"update_share": round(update_share, 4), "delete_share": round(delete_share, 4)}
    if update_share > thresholds.max_update_share:
        fields = Counter(name for changed in unexplained for name in changed)
        listed = ", ".join(f"{name} ({n})" for name, n in fields.most_common())
        return Verdict(
            False,
            f"the plan updates {len(unexplained)} of {total} records ({update_share:.0%}), more than "
            f"thresholds.max_update_share = {thresholds.max_update_share:.0%}; fields changed: {listed}",
            details,
            tuple(f"update:{name}" for name in sorted(fields)),
        )
    if delete_share > thresholds.max_delete_share:
        return Verdict(
            False,
            f"the plan deletes {deletes} of {total} records ({delete_share:.0%}), more than "
            f"thresholds.max_delete_share = {thresholds.max_delete_share:.0%}",
            details,
            (delete_cause,),
        )
    updates = len(changes.updates)
    note = f" ({updates - len(unexplained)} approved earlier)" if len(unexplained) < updates else ""
    return Verdict(
        True, f"{updates} updates{note} and {deletes} deletes of {total} records: within thresholds", details
    )
