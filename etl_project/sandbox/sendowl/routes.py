"""Order and product endpoints of the SendOwl stand-in.

Index endpoints return a bare JSON array of `{"order": {...}}` wrappers with no total and no next link; a client
stops on a short or empty page. Validation errors are 422 with a list of `[field, message]` pairs.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from etl_project.sandbox.sendowl.store import WRITABLE_FIELDS, SendOwlStore, parse_time
from etl_project.sandbox.web import ApiFault
from etl_project.sandbox.webhooks import emitter, order_event

ORDERS = "/api/v1_3/orders"
PRODUCTS = "/api/v1/products"
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 50
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def invalid(field: str, message: str = "is invalid") -> ApiFault:
    return ApiFault(422, [[field, message]])


def not_found() -> ApiFault:
    return ApiFault(404, {"error": "Not found"})


def _int(value: str | None, default: int) -> int:
    # Rails' `to_i`: anything unparsable is the default, never an error.
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def page_of(rows: list[dict[str, Any]], request: Request, wrapper: str) -> list[dict[str, Any]]:
    params = request.query_params
    per_page = _int(params.get("per_page"), DEFAULT_PER_PAGE)
    per_page = DEFAULT_PER_PAGE if per_page < 1 else min(per_page, MAX_PER_PAGE)  # above the maximum: clamped
    page = max(1, _int(params.get("page"), 1))
    start = (page - 1) * per_page
    return [{wrapper: row} for row in rows[start : start + per_page]]


def _date(params: Any, name: str) -> date | None:
    value = params.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(name, "is not a date (YYYY-MM-DD)") from None


def _datetime(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise invalid(name, "is not an ISO 8601 time") from None


def order_fields(body: Any) -> dict[str, Any]:
    """The `order` object of a PUT body, checked the way SendOwl checks it."""
    order = body.get("order") if isinstance(body, dict) else None
    if not isinstance(order, dict) or not order:
        raise invalid("order", "is missing")
    problems = []
    for key, value in order.items():
        if key not in WRITABLE_FIELDS:
            problems.append([key, "is not a writable field"])
        elif value is not None and not isinstance(value, str):
            problems.append([key, "is invalid"])
        elif key == "buyer_email" and not (value or "").strip():
            problems.append([key, "can't be blank"])
        elif key.endswith("_email") and value and not EMAIL.match(value.strip()):
            problems.append([key, "is invalid"])
    if problems:
        raise ApiFault(422, problems)
    return order


def register(app: FastAPI, store: SendOwlStore) -> None:
    emit = emitter(app)  # the shop's own events (a sale, a refund) fire SendOwl's order webhooks

    def order_or_404(order_id: str) -> dict[str, Any]:
        order = store.orders.get(int(order_id)) if order_id.isdigit() else None
        if order is None:
            raise not_found()
        return order

    @app.get(ORDERS)
    async def list_orders(request: Request) -> Any:
        params = request.query_params
        updated_after = None
        if store.settings.updated_after_supported:
            updated_after = _datetime(params.get("updated_after"), "updated_after")
        rows = store.list_orders(
            created_from=_date(params, "from"),
            created_to=_date(params, "to"),
            state=params.get("state") or None,
            updated_after=updated_after,
            orderable=params.get("orderable") or None,
            newest_first=params.get("sort") == "newest_first",
        )
        return page_of(rows, request, "order")

    @app.get(f"{ORDERS}/search")
    async def search_orders(request: Request, email: str | None = None, term: str | None = None) -> Any:
        if not (email or "").strip() and not (term or "").strip():
            raise invalid("term", "can't be blank")
        return page_of(store.search_orders(email=email, term=term), request, "order")

    @app.get(f"{ORDERS}/{{order_id}}")
    async def get_order(order_id: str) -> Any:
        return {"order": order_or_404(order_id)}

    @app.put(f"{ORDERS}/{{order_id}}")
    async def update_order(order_id: str, request: Request) -> Any:
        order = order_or_404(order_id)
        try:
            body = await request.json()
        except ValueError:
            raise invalid("order", "is missing") from None
        return {"order": store.update_order(order["id"], order_fields(body))}

    @app.get(PRODUCTS)
    async def list_products(request: Request) -> Any:
        return page_of(store.product_list(), request, "product")

    # -- sandbox-only: what buyers and the shop owner do in SendOwl's UI --------------------------------------
    @app.post("/_sandbox/sendowl/purchase")
    async def purchase(request: Request) -> Any:
        body = await request.json()
        try:
            order = store.purchase(
                int(body["product_id"]), body["buyer_email"], body.get("buyer_name"), body.get("state", "complete")
            )
        except (KeyError, TypeError, ValueError) as exc:
            return JSONResponse({"error": f"bad purchase: {exc}"}, status_code=400)
        emit(order_event(order), order)
        return {"order": order}

    @app.post("/_sandbox/sendowl/orders/{order_id}/refund")
    async def refund(order_id: str) -> Any:
        order = store.refund(order_or_404(order_id)["id"])
        emit("order.refunded", order)  # "Refund issued": the order keeps its state, `refunded` turns true
        return {"order": order}
