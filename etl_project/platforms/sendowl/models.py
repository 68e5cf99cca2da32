"""Pydantic models of SendOwl records as the REST API returns them (orders v1_3, products v1).

Unknown fields are kept (`extra="allow"`): the raw payload is landed as it came, these models only check what the
sync relies on. Money stays a decimal *string*, as SendOwl sends it; the `Decimal` properties are for arithmetic.
An amount below zero or too large for the warehouse's DECIMAL(18, 2) is quarantined with the reason, never landed as
a NULL or passed on to HighLevel. Buyer emails are checked for syntax only; normalising them is the sync's job.
Timestamps may come with or without a zone, or as epoch seconds/milliseconds: a zone-less time is read as UTC
(SendOwl documents its times as UTC), and every form lands as the same instant (`platforms/fields.py`).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from etl_project.platforms.fields import RecordTime
from etl_project.platforms.validation import OptionalEmail

# What the warehouse stores exactly (DECIMAL(18, 2)); anything larger is not a price anyone paid.
MAX_AMOUNT = Decimal(10) ** 16


def to_decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None and value != "" else None


def _money(value: Any) -> Any:
    """Accept `"64.90"` (and a bare number, kept as its string); refuse anything that is not an amount."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("not an amount")
    text = str(value).strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not an amount: {text[:20]!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount: {text[:20]!r}")
    # SendOwl reports refunds by flag and state, never as negative sums: a negative one is a corrupt record.
    if amount < 0:
        raise ValueError(f"negative amount: {text[:20]!r}")
    if amount >= MAX_AMOUNT:
        raise ValueError(f"implausible amount: {text[:24]!r}")
    return text


Money = Annotated[str | None, BeforeValidator(_money)]
Email = OptionalEmail


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class CartItem(_Record):
    """One line of an order's cart: a product or a package."""

    product_id: int | None = None
    package_id: int | None = None
    quantity: int = 1
    price_at_checkout: Money = None

    @property
    def price(self) -> Decimal | None:
        return to_decimal(self.price_at_checkout)


class Cart(_Record):
    cart_items: list[CartItem] = Field(default_factory=list)

    @field_validator("cart_items", mode="before")
    @classmethod
    def _unwrap(cls, value: Any) -> Any:
        # The API wraps each line: `[{"cart_item": {...}}]`.
        if isinstance(value, list):
            return [v["cart_item"] if isinstance(v, dict) and "cart_item" in v else v for v in value]
        return value


class Order(_Record):
    id: int
    state: str = Field(min_length=1)
    refunded: bool = False
    buyer_email: Email = None
    buyer_name: str | None = None
    business_name: str | None = None
    can_market_to_buyer: bool | None = None
    giftee_name: str | None = None
    giftee_email: str | None = None
    settled_gross: Money = None
    settled_currency: str | None = None
    settled_tax: Money = None
    tag: str | None = None
    cart: Cart | None = None
    created_at: RecordTime
    updated_at: RecordTime

    @property
    def gross(self) -> Decimal | None:
        return to_decimal(self.settled_gross)

    @property
    def tax(self) -> Decimal | None:
        return to_decimal(self.settled_tax)

    @property
    def items(self) -> list[CartItem]:
        return list(self.cart.cart_items) if self.cart else []

    @property
    def product_ids(self) -> list[int]:
        return [item.product_id for item in self.items if item.product_id is not None]


class Product(_Record):
    id: int
    name: str
    price: Money = None
    product_type: str | None = None

    @property
    def amount(self) -> Decimal | None:
        return to_decimal(self.price)
