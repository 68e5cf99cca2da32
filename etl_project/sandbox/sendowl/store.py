"""In-memory state of the SendOwl stand-in: products, orders, and which API keys are blocked for calling too fast."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from etl_project.platforms.sendowl.settings import WRITABLE_ORDER_FIELDS
from etl_project.sandbox.people import Person
from etl_project.sandbox.sendowl.seed import Catalogue, build_catalogue, build_order, build_orders, iso

WRITABLE_FIELDS = WRITABLE_ORDER_FIELDS  # the contract's list, shared with the client


@dataclass
class SendOwlSettings:
    key: str = "sandbox-sendowl-key"
    secret: str = "sandbox-sendowl-secret"
    # Only two public sources mention `updated_after` (contract: UNCERTAIN); off, it is ignored like any unknown param.
    updated_after_supported: bool = True
    # How long a key that called more than once per second is refused with 403 (SendOwl blocks the caller).
    block_seconds: float = 30.0
    # Order ids are one platform-wide sequence: each account's seeded orders start somewhere above this.
    order_id_base: int = 3_000_000


def parse_time(value: str) -> datetime:
    """A time as SendOwl reads one (ISO 8601, zone-less as UTC): the stand-in's own reading, not the client's
    `platforms.fields.parse_instant`, so the sandbox keeps modelling the platform whatever the client accepts."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class SendOwlStore:
    settings: SendOwlSettings = field(default_factory=SendOwlSettings)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    blocked_until: dict[str, float] = field(default_factory=dict)  # API key → time.monotonic() the block ends
    version: int = 0
    next_order_id: int = 1
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    catalogue: Catalogue | None = None

    # -- seeding ---------------------------------------------------------------------------------------------
    def seed(self, people: list[Person], seed: int, now: datetime | None = None) -> None:
        """Replace all records: the catalogue, then 1-4 orders for each of `people` (the caller picks the buyers)."""
        now = now or datetime.now(UTC)
        rng = random.Random(seed * 7919 + 2)
        self.rng = random.Random(seed + 1)
        self.orders.clear()
        self.products.clear()
        self.blocked_until.clear()
        self.catalogue = build_catalogue(rng, now)
        self.products.update((p["id"], p) for p in self.catalogue.products)
        # Ids are a shop-wide sequence in creation order, with gaps where other shops' orders were numbered.
        base = self.settings.order_id_base
        self.next_order_id = rng.randint(base, base + 1_000_000)
        for order in build_orders(people, rng, self.catalogue, now):
            self._insert(order, gap=rng.randint(1, 30))
        self.version += 1

    def _insert(self, order: dict[str, Any], gap: int = 1) -> dict[str, Any]:
        order_id = self.next_order_id
        self.next_order_id += gap
        if order["access_allowed"]:
            order["download_url"] = f"https://transactions.sendowl.com/orders/{order_id}/download/{order_id * 7:X}"
        self.orders[order_id] = {"id": order_id, **order}
        return self.orders[order_id]

    # -- reads -----------------------------------------------------------------------------------------------
    def list_orders(
        self,
        *,
        created_from: date | None = None,
        created_to: date | None = None,
        state: str | None = None,
        updated_after: datetime | None = None,
        orderable: str | None = None,
        newest_first: bool = False,
    ) -> list[dict[str, Any]]:
        """Orders matching every given filter, oldest first by creation (ties by id)."""
        rows = []
        for order in self.orders.values():
            created = parse_time(order["created_at"]).date()
            if created_from is not None and created < created_from:
                continue
            if created_to is not None and created > created_to:
                continue
            if state is not None and order["state"] != state:
                continue
            if updated_after is not None and parse_time(order["updated_at"]) <= updated_after:
                continue
            if orderable is not None and orderable not in _orderables(order):
                continue
            rows.append(order)
        rows.sort(key=lambda o: (o["created_at"], o["id"]), reverse=newest_first)
        return rows

    def search_orders(self, *, email: str | None = None, term: str | None = None) -> list[dict[str, Any]]:
        """`email`: exact, case-insensitive and trimmed; `term`: a substring of the buyer's email or name."""
        rows = []
        for order in self.orders.values():
            buyer_email = str(order.get("buyer_email") or "").strip().lower()
            if email is not None and buyer_email and buyer_email == email.strip().lower():
                rows.append(order)
            elif term is not None and term.strip():
                needle = term.strip().lower()
                if needle in buyer_email or needle in str(order.get("buyer_name") or "").lower():
                    rows.append(order)
        rows.sort(key=lambda o: (o["created_at"], o["id"]))
        return rows

    def product_list(self) -> list[dict[str, Any]]:
        return [self.products[pid] for pid in sorted(self.products)]

    # -- writes ----------------------------------------------------------------------------------------------
    def touch(self, order: dict[str, Any], now: datetime | None = None) -> None:
        order["updated_at"] = iso(now or datetime.now(UTC))
        self.version += 1

    def update_order(self, order_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        """Apply already-validated writable fields and bump `updated_at`."""
        order = self.orders[order_id]
        order.update(fields)
        self.touch(order)
        return order

    def purchase(
        self,
        product_id: int,
        buyer_email: str,
        buyer_name: str | None = None,
        state: str = "complete",
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """A new order as if a buyer had just checked out (for end-to-end tests of incremental extraction)."""
        if self.catalogue is None or product_id not in self.products:
            raise KeyError(product_id)
        now = now or datetime.now(UTC)
        order = build_order(self.rng, self.catalogue, state, (buyer_email, buyer_name), None, now, now)
        price = self.products[product_id]["price"]
        order["cart"]["cart_items"] = [
            {"cart_item": {"product_id": product_id, "quantity": 1, "price_at_checkout": price}}
        ]
        if order["settled_gross"] is not None:
            order["settled_gross"], order["settled_tax"] = price, "0.00"
        self.version += 1
        return self._insert(order)

    def refund(self, order_id: int, now: datetime | None = None) -> dict[str, Any]:
        """What a refund issued from SendOwl's dashboard does to the order."""
        order = self.orders[order_id]
        order["refunded"] = True
        order["access_allowed"] = False
        self.touch(order, now)
        return order


def _orderables(order: dict[str, Any]) -> set[str]:
    found = set()
    for wrapper in order["cart"]["cart_items"]:
        item = wrapper["cart_item"]
        if item.get("product_id") is not None:
            found.add(f"Product-{item['product_id']}")
        if item.get("package_id") is not None:
            found.add(f"Package-{item['package_id']}")
    return found
