"""SendOwl REST API client (https://www.sendowl.com/developers/api; docs/contracts/sendowl.md).

Every call goes through `ApiClient.request`; this module knows paths, the bare-array envelopes and SendOwl's two
quirks: it must be asked for JSON by name, and it blocks (403) a caller that exceeds one request per second instead
of answering 429. Pacing keeps us under that rate; a 403 is still treated as a cooldown and retried.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from etl_project.platforms import errors
from etl_project.platforms.fields import iso_utc
from etl_project.platforms.http import ApiClient, ErrorBody, RetryPolicy
from etl_project.platforms.pacing import IntervalPacer
from etl_project.platforms.sendowl import models
from etl_project.platforms.sendowl.settings import (
    DEFAULT_BLOCK_COOLDOWN,
    DEFAULT_MIN_INTERVAL,
    MAX_PER_PAGE,
    ORDER_SEARCH,
    ORDERS,
    PRODUCTS,
)
from etl_project.platforms.validation import Parsed, parse_records

M = TypeVar("M", bound=BaseModel)


def unwrap(item: Any, key: str) -> Any:
    """`{"order": {...}}` → `{...}`; anything else is passed on as it is, for validation to reject with a reason."""
    return item[key] if isinstance(item, dict) and isinstance(item.get(key), dict) else item


class SendOwlClient(ApiClient):
    platform = "sendowl"
    throttle_statuses = frozenset({429, 403})  # a 403 block is SendOwl's "too fast": waited out, bounded by time

    def __init__(
        self,
        http: httpx.Client,
        *,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        retry: RetryPolicy | None = None,
        pacer: IntervalPacer | None = None,
        block_cooldown: float = DEFAULT_BLOCK_COOLDOWN,
        **kwargs: Any,
    ) -> None:
        """`http` carries the base URL and `httpx.BasicAuth(key, secret)`; `pacer` overrides `min_interval`."""
        # Without it SendOwl answers 415; httpx's default `*/*` does not count.
        http.headers["Accept"] = "application/json"
        super().__init__(http, pacer=pacer or IntervalPacer(min_interval), retry=retry, **kwargs)
        self.block_cooldown = block_cooldown

    # -- hooks -----------------------------------------------------------------------------------------------
    def parse_error_body(self, response: httpx.Response) -> ErrorBody:
        body = super().parse_error_body(response)
        details = body.details
        # 422 bodies are `[[field, message], ...]`: say "buyer_email is invalid; tag is too long".
        if isinstance(details, list) and details and all(isinstance(p, list | tuple) for p in details):
            return ErrorBody("; ".join(" ".join(map(str, pair)) for pair in details), body.trace_id, details)
        return body

    def map_error(self, response: httpx.Response, method: str, path: str) -> errors.PlatformError:
        if response.status_code != 403:
            return super().map_error(response, method, path)
        # SendOwl's answer to more than one request per second is a block, not a 429. (Its docs leave open
        # whether bad credentials can also give 403; the body's message is kept to tell them apart.)
        body = self.parse_error_body(response)
        return errors.RateLimitError(
            self.platform,
            f"blocked for calling more than once per second: {body.message}",
            status_code=403,
            method=method,
            path=path,
            details=body.details,
        )

    def retry_delay(self, response: httpx.Response, attempt: int, safe_to_repeat: bool) -> float | None:
        # A 403 block is a cooldown: wait it out. The blocked request was refused before it was processed, so
        # repeating it is safe even for writes.
        if response.status_code == 403:
            return self.block_cooldown
        return super().retry_delay(response, attempt, safe_to_repeat)

    # -- orders ----------------------------------------------------------------------------------------------
    def iter_orders(
        self,
        *,
        updated_after: datetime | None = None,
        created_from: date | None = None,
        created_to: date | None = None,
        state: str | None = None,
        per_page: int = MAX_PER_PAGE,
    ) -> Iterator[Parsed[models.Order]]:
        """Pages of orders, oldest created first; `created_from`/`created_to` are inclusive creation dates.

        Oldest-first offset paging is stable while the shop takes new orders: they are appended after the last page.
        `updated_after` is honoured only where SendOwl supports it (contract: UNCERTAIN); callers that cannot rely
        on it re-scan a trailing creation window instead.
        """
        params: dict[str, Any] = {}
        if updated_after is not None:
            params["updated_after"] = iso_utc(updated_after, timespec="auto")
        if created_from is not None:
            params["from"] = created_from.isoformat()
        if created_to is not None:
            params["to"] = created_to.isoformat()
        if state is not None:
            params["state"] = state
        yield from self._pages(models.Order, ORDERS, "order", params, per_page)

    def search_orders(self, email: str | None = None, *, term: str | None = None) -> Parsed[models.Order]:
        """Orders whose buyer email is `email` (exact, ignoring case), or matching the fuzzy `term`."""
        if email is None and term is None:
            raise ValueError("search_orders needs an email or a term")
        params = {"email": email} if email is not None else {"term": term}
        return _merge(self._pages(models.Order, ORDER_SEARCH, "order", params, MAX_PER_PAGE))

    def get_order(self, order_id: int | str) -> dict[str, Any]:
        return self.request("GET", f"{ORDERS}/{order_id}").json()["order"]

    def update_order(self, order_id: int | str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """PUT the writable fields (see `settings.WRITABLE_ORDER_FIELDS`); a refusal is an `InvalidRequestError`."""
        return self.request("PUT", f"{ORDERS}/{order_id}", json={"order": dict(fields)}).json()["order"]

    # -- products --------------------------------------------------------------------------------------------
    def list_products(self) -> Parsed[models.Product]:
        return _merge(self._pages(models.Product, PRODUCTS, "product", {}, MAX_PER_PAGE))

    # -- paging ----------------------------------------------------------------------------------------------
    def _pages(
        self, model: type[M], path: str, key: str, params: Mapping[str, Any], per_page: int
    ) -> Iterator[Parsed[M]]:
        """Page 1, 2, ... of a bare-array index; there is no total and no next link, so stop on a short page."""
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        page, previous = 1, None
        while True:
            body = self.request("GET", path, params={**params, "page": page, "per_page": per_page}).json()
            if not isinstance(body, list):
                raise errors.PlatformError(
                    self.platform, f"expected a JSON array from {path}, got {type(body).__name__}", path=path
                )
            if body and body == previous:
                # An endpoint that ignored `page` would otherwise be read forever.
                raise errors.PlatformError(self.platform, f"page {page} repeats page {page - 1}", path=path)
            previous = body
            if body:
                yield parse_records(model, [unwrap(item, key) for item in body])
            if len(body) < per_page:
                return
            page += 1


def _merge(pages: Iterator[Parsed[M]]) -> Parsed[M]:
    merged: Parsed[M] = Parsed()
    for page in pages:
        merged.valid += page.valid
        merged.rejected += page.rejected
    return merged
