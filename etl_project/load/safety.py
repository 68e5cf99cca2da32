"""Safety before any write: unique ids, match keys, the mass-change guard, and the real-write opt-in.

The same checks back the blocking Dagster asset checks (shown in the UI) and run again inside the write asset, so
a write run started on its own is held to them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from etl_project.sync.config import Thresholds
from etl_project.warehouse.sql import load_sql
from etl_project.warehouse.store import Warehouse
from etl_project.warehouse.tables import kind_table

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str
    details: dict[str, int | float]


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


def mass_change(warehouse: Warehouse, platform: str, thresholds: Thresholds) -> Verdict:
    sql = load_sql("count_pending_changes").format(table=kind_table(platform, "contacts").table)
    updates, deletes, records = warehouse.query(sql, {"platform": platform})[0]
    return judge_mass_change(updates, deletes, records, thresholds)


def judge_mass_change(updates: int, deletes: int, records: int, thresholds: Thresholds) -> Verdict:
    details: dict[str, int | float] = {"updates": updates, "deletes": deletes, "records": records}
    if records < thresholds.min_records_for_share:
        return Verdict(
            True, f"{records} records: below {thresholds.min_records_for_share}, shares not applied", details
        )
    update_share, delete_share = updates / records, deletes / records
    details |= {"update_share": round(update_share, 4), "delete_share": round(delete_share, 4)}
    if update_share > thresholds.max_update_share:
        return Verdict(
            False,
            f"the plan updates {updates} of {records} records ({update_share:.0%}), more than "
            f"thresholds.max_update_share = {thresholds.max_update_share:.0%}",
            details,
        )
    if delete_share > thresholds.max_delete_share:
        return Verdict(
            False,
            f"the plan deletes {deletes} of {records} records ({delete_share:.0%}), more than "
            f"thresholds.max_delete_share = {thresholds.max_delete_share:.0%}",
            details,
        )
    return Verdict(True, f"{updates} updates and {deletes} deletes of {records} records: within thresholds", details)
