"""Seeded SendOwl data: a small product catalogue and a few orders per buyer, shaped like the v1_3 API returns them.

Everything comes from one `random.Random`, so the same seed and people give the same orders (times are relative to
`now`). Orders carry what real shops hold: every state, refunds and chargebacks changed days after the sale,
emails typed by buyers (upper-case, padded, the odd typo) and money as strings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from etl_project.sandbox.people import Person, render_email

CATALOGUE = (  # name, price, product_type
    ("Lightroom Presets Pack", "19.00", "digital"),
    ("Shooting in Manual (ebook)", "12.50", "digital"),
    ("Photography Masterclass", "149.00", "digital"),
    ("Editing Software Licence", "59.00", "software"),
    ("Printed Photo Book", "45.00", "tangible"),
    ("Monthly Coaching Membership", "29.00", "service"),
)
MEMBERSHIP = "Monthly Coaching Membership"
STATE_WEIGHTS = {
    "complete": 58,
    "subscription_active": 10,
    "subscription_cancelled": 6,
    "failed": 6,
    "free": 4,
    "chargeback": 3,
    "imported": 3,
    "in_dispute": 2,
    "payment_pending": 2,
    "subscription_complete": 2,
    "fraud_review": 1,
    "gift_pending": 1,
    "initial": 1,
    "payment_started": 1,
}
UNPAID = frozenset({"initial", "payment_started", "payment_pending", "failed"})
CHANGED_LATER = frozenset({"chargeback", "in_dispute", "subscription_cancelled", "subscription_complete"})
SUBSCRIPTION = frozenset({"subscription_active", "subscription_cancelled", "subscription_complete"})
TAGS = ("wholesale", "affiliate:jane", "vip", "imported from gumroad", "ghl:lead")
STREETS = ("12 Oak Street", "400 Market St", "77 Harbor Way", "9 Elm Court", "1500 Sunset Blvd", "31 Pine Road")
PLACES = (
    ("New York", "NY", "10001"),
    ("Austin", "TX", "73301"),
    ("Seattle", "WA", "98101"),
    ("Boston", "MA", "02108"),
    ("Chicago", "IL", "60601"),
    ("Miami", "FL", "33101"),
)
CENTS = Decimal("0.01")


def iso(ts: datetime) -> str:
    """SendOwl's timestamps: UTC, whole seconds, `Z`. The platform's wire form, stated by the stand-in itself (not the
    client's `platforms.fields.iso_utc`), as `sandbox/highlevel/store.py: iso` explains."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(value: Decimal) -> str:
    return str(value.quantize(CENTS))


@dataclass(frozen=True)
class Catalogue:
    products: list[dict[str, Any]]
    package_id: int
    package_price: str


def build_catalogue(rng: random.Random, now: datetime) -> Catalogue:
    next_id = rng.randint(40_000, 90_000)
    products = []
    for name, price, kind in CATALOGUE:
        token = f"{rng.getrandbits(32):08X}"
        created = now - timedelta(days=rng.randint(120, 900))
        products.append(
            {
                "id": next_id,
                "name": name,
                "product_type": kind,
                "price": price,
                "price_is_minimum": False,
                "limit_to_single_qty_in_cart": kind != "tangible",
                "pdf_stamping": kind == "digital" and "ebook" in name,
                "license_type": "generated" if kind == "software" else None,
                "self_hosted_url": None,
                "product_image_url": None,
                "sales_page_url": f"https://shop.example.com/{name.lower().split()[0]}",
                "instant_buy_url": f"https://transactions.sendowl.com/products/{next_id}/{token}/purchase",
                "created_at": iso(created),
                "updated_at": iso(created + timedelta(days=rng.randint(0, 100))),
            }
        )
        next_id += rng.randint(1, 40)
    return Catalogue(products, package_id=next_id + rng.randint(100, 900), package_price="179.00")


def _cart(rng: random.Random, catalogue: Catalogue, state: str) -> list[dict[str, Any]]:
    membership = next(p for p in catalogue.products if p["name"] == MEMBERSHIP)
    if state in SUBSCRIPTION:
        return [
            {"cart_item": {"product_id": membership["id"], "quantity": 1, "price_at_checkout": membership["price"]}}
        ]
    if rng.random() < 0.05:
        return [{"cart_item": {"package_id": catalogue.package_id, "quantity": 1, "price_at_checkout": "179.00"}}]
    items = []
    for product in rng.sample([p for p in catalogue.products if p is not membership], rng.choice((1, 1, 1, 2, 3))):
        price = Decimal(product["price"])
        if state == "free":
            price = Decimal(0)
        elif rng.random() < 0.1:
            price = price * Decimal("0.8")  # a discount code
        quantity = rng.choice((1, 1, 2)) if product["product_type"] == "tangible" else 1
        item = {"product_id": product["id"], "quantity": quantity, "price_at_checkout": money(price)}
        items.append({"cart_item": item})
    return items


def _address(rng: random.Random | None, prefix: str) -> dict[str, Any]:
    if rng is None:
        return dict.fromkeys(
            f"{prefix}_{part}" for part in ("address1", "address2", "city", "region", "postcode", "country")
        )
    city, region, postcode = rng.choice(PLACES)
    return {
        f"{prefix}_address1": rng.choice(STREETS),
        f"{prefix}_address2": rng.choice((None, None, None, "Apt 4B", "Suite 200")),
        f"{prefix}_city": city,
        f"{prefix}_region": region,
        f"{prefix}_postcode": postcode,
        f"{prefix}_country": "US",
    }


def _buyer_name(person: Person, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.1:
        return f"{person.first_name} {person.last_name}".lower()
    if roll < 0.18:
        return person.first_name
    return f"{person.first_name} {person.last_name}"


def build_order(
    rng: random.Random,
    catalogue: Catalogue,
    state: str,
    buyer: tuple[str | None, str | None],
    person: Person | None,
    created: datetime,
    updated: datetime,
    refunded: bool = False,
) -> dict[str, Any]:
    """One order without `id` (ids follow creation order and are assigned by the store)."""
    items = _cart(rng, catalogue, state)
    subtotal = sum(
        (Decimal(i["cart_item"]["price_at_checkout"]) * i["cart_item"]["quantity"] for i in items), Decimal(0)
    )
    paid = state not in UNPAID and buyer[0] is not None
    tax = (subtotal * Decimal("0.2")).quantize(CENTS) if paid and rng.random() < 0.3 else Decimal(0)
    gross = subtotal + tax
    shipped = {p["id"] for p in catalogue.products if p["product_type"] == "tangible"}
    tangible = any(i["cart_item"].get("product_id") in shipped for i in items)
    gift = state == "gift_pending" or (state == "complete" and rng.random() < 0.03)
    order: dict[str, Any] = {
        "state": state,
        "gateway": None if state in {"free", "initial"} else rng.choice(("Stripe", "Stripe", "PayPal")),
        "refunded": refunded,
        "for_subscription": state in SUBSCRIPTION,
        "buyer_email": buyer[0],
        "buyer_name": buyer[1],
        "business_name": person.company if person is not None and rng.random() < 0.25 else None,
        "business_vat_number": None,
        "can_market_to_buyer": rng.random() < 0.55,
        "buyer_ip_address": f"203.0.113.{rng.randint(1, 254)}",
        **_address(rng if paid else None, "billing"),
        **_address(rng if paid and tangible else None, "shipping"),
        "giftee_name": "Sam Gift" if gift else None,
        "giftee_email": "sam.gift@example.org" if gift else None,
        "gift_deliver_at": None,
        "tag": rng.choice(TAGS) if rng.random() < 0.3 else "",
        "discount_code": None,
        "settled_currency": None if not paid else rng.choices(("USD", "EUR", "GBP"), (85, 10, 5))[0],
        "settled_gross": money(gross) if paid else None,
        "settled_tax": money(tax) if paid else None,
        "settled_gateway_fee": money(gross * Decimal("0.029") + Decimal("0.30")) if paid and gross else None,
        "settled_affiliate_fee": None,
        "access_allowed": paid and not refunded and state not in {"chargeback", "fraud_review"},
        "download_url": None,
        "dispatched_at": iso(updated) if tangible and paid else None,
        "cart": {"cart_items": items, "completed_checkout_at": iso(created) if paid else None},
        "created_at": iso(created),
        "updated_at": iso(updated),
    }
    return order


def build_orders(people: list[Person], rng: random.Random, catalogue: Catalogue, now: datetime) -> list[dict[str, Any]]:
    """1-4 orders per buyer, oldest first; ids are left to the caller."""
    states, weights = list(STATE_WEIGHTS), list(STATE_WEIGHTS.values())
    orders = []
    for person in people:
        # Every SendOwl order past checkout has a buyer email; people we know only by phone typed one in anyway.
        email = person.email or f"{person.first_name}.{person.last_name}.{person.index}@mail.example".lower()
        for n in range(rng.choices((1, 2, 3, 4), (45, 30, 15, 10))[0]):
            state = rng.choices(states, weights)[0]
            typo = n == 0 and person.index % 40 == 11  # a buyer mistyped their address: quarantine material
            if typo:
                state = "complete"
            created = now - timedelta(seconds=rng.randint(3_600, 90 * 86_400))
            age = int((now - created).total_seconds())
            refunded = state == "complete" and rng.random() < 0.12
            if refunded or state in CHANGED_LATER:  # refunds and disputes arrive days after the sale
                updated = created + timedelta(seconds=rng.randint(min(600, age - 60), min(30 * 86_400, age - 60)))
            else:
                updated = created + timedelta(seconds=rng.randint(0, 120))
            if state == "initial":  # an abandoned cart: nobody has typed anything yet
                buyer: tuple[str | None, str | None] = (None, None)
            elif typo:
                buyer = (rng.choice((f"{email.split('@')[0]}@", email.replace("@", " at "))), _buyer_name(person, rng))
            else:
                buyer = (render_email(email, rng), _buyer_name(person, rng))
            orders.append(build_order(rng, catalogue, state, buyer, person, created, updated, refunded))
    orders.sort(key=lambda o: o["created_at"])
    return orders
