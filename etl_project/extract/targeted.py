"""Targeted extraction: re-read the records webhooks named, by id, and land them through the scheduled extraction's
idempotent path (`Stager` → `Warehouse.land_batches`). No Dagster here.

An event is a trigger to re-read, never data to trust: deliveries are at-least-once and unordered, so the body's
fields are ignored and the record is fetched as it is *now*. `Targets.from_events` coalesces a burst (many events
naming the same record are one read). A record the platform no longer has (404) is marked deleted, not an error:
a contact's tasks, notes and appointments go with it. A task, note or appointment event without a `contactId`
(real TaskCreate deliveries have come without one) cannot be re-read by id: the scheduled runs' sweep covers it.

Nothing here books the extraction ledger or moves a cursor: those describe the scheduled windows, and a targeted
read of a few records says nothing about a window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from etl_project.extract.staging import Stager
from etl_project.platforms.errors import NotFoundError
from etl_project.platforms.highlevel import models as hl_models
from etl_project.platforms.sendowl import models as so_models
from etl_project.platforms.validation import Parsed, parse_records
from etl_project.warehouse.store import Batch, LandResult, Record, Warehouse, Window

CHILD_KINDS = ("tasks", "notes", "appointments")
_CHILD_OF_EVENT = {"task": "tasks", "note": "notes", "appointment": "appointments"}


class NamedRecord(Protocol):
    """What coalescing reads of an inbox row (`webhooks.InboxEvent`)."""

    @property
    def platform(self) -> str: ...
    @property
    def record_kind(self) -> str: ...
    @property
    def record_id(self) -> str | None: ...
    @property
    def contact_id(self) -> str | None: ...


@dataclass(frozen=True)
class Targets:
    """The records a batch of events named, deduplicated: HighLevel contacts to re-read, contacts whose task, note
    or appointment lists to re-read, SendOwl orders to re-read. Sorted, so the same events give the same run."""

    contacts: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    appointments: tuple[str, ...] = ()
    orders: tuple[str, ...] = ()
    unroutable: int = 0  # child events with no contact id (left to the scheduled sweep)

    @classmethod
    def from_events(cls, events: Iterable[NamedRecord]) -> Targets:
        wanted: dict[str, set[str]] = {"contacts": set(), **{k: set() for k in CHILD_KINDS}, "orders": set()}
        unroutable = 0
        for e in events:
            if e.platform == "sendowl" and e.record_kind == "order" and e.record_id:
                wanted["orders"].add(e.record_id)
            elif e.platform == "highlevel" and e.record_kind == "contact" and e.record_id:
                wanted["contacts"].add(e.record_id)
            elif e.platform == "highlevel" and e.record_kind in _CHILD_OF_EVENT:
                if e.contact_id:
                    wanted[_CHILD_OF_EVENT[e.record_kind]].add(e.contact_id)
                else:
                    unroutable += 1
            # location events (INSTALL, LocationUpdate, ...) name nothing the sync re-reads
        return cls(**{k: tuple(sorted(v)) for k, v in wanted.items()}, unroutable=unroutable)

    def as_config(self) -> dict[str, list[str]]:
        return {k: list(getattr(self, k)) for k in ("contacts", *CHILD_KINDS, "orders")}

    @property
    def reads(self) -> int:
        """API requests a refresh costs: one per contact, per child list and per order."""
        return sum(len(getattr(self, k)) for k in ("contacts", *CHILD_KINDS, "orders"))

    def __bool__(self) -> bool:
        return self.reads > 0


@dataclass
class TargetedReport:
    land: dict[str, LandResult] = field(default_factory=dict)  # by kind
    requests: int = 0
    gone: dict[str, list[str]] = field(default_factory=dict)  # kind → ids found deleted (404)

    def result(self, kind: str) -> LandResult:
        return self.land.setdefault(kind, LandResult())

    def metadata(self) -> dict[str, Any]:
        out: dict[str, Any] = {"requests": self.requests}
        for kind, land in sorted(self.land.items()):
            out[f"{kind}_records"] = land.records
            out[f"{kind}_changed"] = land.changed + land.new_records
        for kind, ids in sorted(self.gone.items()):
            out[f"{kind}_gone"] = len(ids)
        return out


class HighLevelReads(Protocol):
    requests_sent: int

    def get_contact(self, contact_id: str) -> dict[str, Any]: ...
    def get_tasks(self, contact_id: str) -> Parsed[Any]: ...
    def get_notes(self, contact_id: str) -> Parsed[Any]: ...
    def get_appointments(self, contact_id: str) -> Parsed[Any]: ...


class SendOwlReads(Protocol):
    requests_sent: int

    def get_order(self, order_id: int | str) -> dict[str, Any]: ...


def refresh_highlevel(client: HighLevelReads, warehouse: Warehouse, window: Window, targets: Targets) -> TargetedReport:
    """Re-read the named contacts and child lists; land them; mark what is gone deleted."""
    report = TargetedReport()
    sent = client.requests_sent
    stager = Stager(warehouse)
    gone: set[str] = set()
    for contact_id in targets.contacts:
        requested = datetime.now(UTC)
        try:
            parsed = parse_records(hl_models.Contact, [client.get_contact(contact_id)])
        except NotFoundError:
            gone.add(contact_id)
            continue
        records = [Record(str(m.id), raw) for m, raw in parsed.valid]
        batch = Batch("highlevel", "contacts", window, records, parsed.rejected, fetched_at=requested)
        stager.add(batch, report.result("contacts"))
    fetchers: dict[str, Callable[[str], Parsed[Any]]] = {
        "tasks": client.get_tasks,
        "notes": client.get_notes,
        "appointments": client.get_appointments,
    }
    for kind in CHILD_KINDS:
        for contact_id in getattr(targets, kind):
            if contact_id in gone:
                continue
            requested = datetime.now(UTC)
            try:
                parsed = fetchers[kind](contact_id)
            except NotFoundError:
                gone.add(contact_id)
                continue
            # The list is complete for its contact: a child no longer listed is marked deleted on landing.
            records = [Record(str(m.id), raw, contact_id) for m, raw in parsed.valid]
            batch = Batch("highlevel", kind, window, records, parsed.rejected, [contact_id], requested)
            stager.add(batch, report.result(kind))
    for contact_id in sorted(gone):
        # Gone with its contact: an empty complete list marks every child deleted, without asking the API.
        for kind in CHILD_KINDS:
            stager.add(Batch("highlevel", kind, window, [], (), [contact_id]), report.result(kind))
    stager.flush()
    warehouse.mark_deleted("highlevel", "contacts", sorted(gone))
    if gone:
        report.gone["contacts"] = sorted(gone)
    report.requests = client.requests_sent - sent
    return report


def refresh_orders(
    client: SendOwlReads, warehouse: Warehouse, window: Window, order_ids: Iterable[str]
) -> TargetedReport:
    """Re-read the named SendOwl orders by id; land them; mark a 404 deleted."""
    report = TargetedReport()
    sent = client.requests_sent
    stager = Stager(warehouse)
    gone = []
    for order_id in order_ids:
        requested = datetime.now(UTC)
        try:
            parsed = parse_records(so_models.Order, [client.get_order(order_id)])
        except NotFoundError:
            gone.append(order_id)
            continue
        records = [Record(str(m.id), raw) for m, raw in parsed.valid]
        stager.add(
            Batch("sendowl", "orders", window, records, parsed.rejected, fetched_at=requested), report.result("orders")
        )
    stager.flush()
    warehouse.mark_deleted("sendowl", "orders", gone)
    if gone:
        report.gone["orders"] = gone
    report.requests = client.requests_sent - sent
    return report
