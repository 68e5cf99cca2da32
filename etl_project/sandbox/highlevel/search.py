"""`POST /contacts/search` filter, sort and paging semantics of the HighLevel stand-in."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

DATE_FIELDS = {"dateAdded", "dateUpdated"}
OPERATORS = {"eq", "not_eq", "contains", "not_contains", "exists", "not_exists", "range"}


class SearchError(ValueError):
    """A malformed search body; answered with 422 and the message."""


def to_epoch_ms(value: Any) -> int:
    """Range values arrive as ISO strings or epoch ms (HighLevel's docs show both): accept both."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return _str_to_epoch_ms(value)
    raise SearchError(f"range value {value!r} is neither an ISO date nor epoch milliseconds")


@lru_cache(maxsize=1 << 20)
def _str_to_epoch_ms(value: str) -> int:
    # HighLevel's reading of a range value (the stand-in's own, not the client's parser). Cached: every search
    # re-reads the date of every contact, and 100k ISO parses per query add up.
    if re.fullmatch(r"\d{10,}", value):
        return int(value)
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        raise SearchError(f"range value {value!r} is neither an ISO date nor epoch milliseconds") from None


def _field_value(contact: dict[str, Any], name: str) -> Any:
    if name in DATE_FIELDS:
        value = contact.get(name)
        return to_epoch_ms(value) if value else None
    return contact.get(name)


def _text(value: Any) -> str:
    return str(value).strip().lower()


def compile_filter(spec: Any) -> Callable[[dict[str, Any]], bool]:
    if not isinstance(spec, dict):
        raise SearchError("each filter must be an object")
    if "group" in spec:
        parts = [compile_filter(f) for f in spec.get("filters", [])]
        if spec["group"] == "OR":
            return lambda c: any(p(c) for p in parts)
        if spec["group"] == "AND":
            return lambda c: all(p(c) for p in parts)
        raise SearchError("group must be AND or OR")
    field, op, value = spec.get("field"), spec.get("operator"), spec.get("value")
    if not isinstance(field, str) or op not in OPERATORS:
        raise SearchError(f"filter needs a field and an operator in {sorted(OPERATORS)}")
    if field in DATE_FIELDS and op != "range":
        raise SearchError(f"{field} supports only the range operator")
    if op == "range":
        if not isinstance(value, dict) or not value:
            raise SearchError("range needs a value with gt, gte, lt or lte")
        bounds = {k: to_epoch_ms(v) for k, v in value.items() if k in {"gt", "gte", "lt", "lte"}}

        def in_range(c: dict[str, Any]) -> bool:
            v = _field_value(c, field)
            if v is None:
                return False
            return (
                ("gt" not in bounds or v > bounds["gt"])
                and ("gte" not in bounds or v >= bounds["gte"])
                and ("lt" not in bounds or v < bounds["lt"])
                and ("lte" not in bounds or v <= bounds["lte"])
            )

        return in_range
    if op in {"exists", "not_exists"}:
        want = op == "exists"
        return lambda c: (c.get(field) not in (None, "", [])) == want

    def matches(c: dict[str, Any]) -> bool:
        current = c.get(field)
        values = current if isinstance(current, list) else [current]
        texts = [_text(v) for v in values if v is not None]
        if op in {"eq", "not_eq"}:
            hit = _text(value) in texts
            return hit if op == "eq" else not hit
        hit = any(_text(value) in t for t in texts)
        return hit if op == "contains" else not hit

    return matches


def _query_match(query: str) -> Callable[[dict[str, Any]], bool]:
    needle = query.strip().lower()
    digits = re.sub(r"\D", "", needle)

    def match(c: dict[str, Any]) -> bool:
        hay = " ".join(str(c.get(k) or "") for k in ("firstName", "lastName", "name", "email", "companyName"))
        if needle in hay.lower():
            return True
        return bool(digits) and digits in re.sub(r"\D", "", str(c.get("phone") or ""))

    return match


class SearchIndex:
    """Sorted result lists cached per (query, store version), so `searchAfter` paging is a bisect."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[int, list[tuple[Any, str]]]] = {}

    def run(self, contacts: dict[str, dict[str, Any]], version: int, body: dict[str, Any]) -> tuple[list[str], int]:
        filters = body.get("filters") or []
        sort = body.get("sort") or [{"field": "dateAdded", "direction": "desc"}]
        if not isinstance(filters, list) or not isinstance(sort, list) or not sort:
            raise SearchError("filters and sort must be arrays")
        sort_field = sort[0].get("field", "dateAdded")
        descending = sort[0].get("direction", "asc") == "desc"
        key = json.dumps([filters, sort_field, body.get("query")], sort_keys=True)
        cached = self._cache.get(key)
        if cached is None or cached[0] != version:
            preds = [compile_filter(f) for f in filters]
            if body.get("query"):
                preds.append(_query_match(str(body["query"])))
            rows = [(self._sort_value(c, sort_field), cid) for cid, c in contacts.items() if all(p(c) for p in preds)]
            rows.sort()
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = (version, rows)
        else:
            rows = cached[1]
        ordered = list(reversed(rows)) if descending else rows
        limit = int(body.get("pageLimit") or 20)
        after = body.get("searchAfter")
        if after:
            if not isinstance(after, list) or len(after) != 2:
                raise SearchError("searchAfter must be [sortValue, id]")
            marker = (after[0], str(after[1]))
            # rows are ascending; in descending order the rows after the marker are those below it
            idx = len(rows) - bisect.bisect_left(rows, marker) if descending else bisect.bisect_right(rows, marker)
            page = ordered[idx : idx + limit]
        else:
            page_no = int(body.get("page") or 1)
            if page_no * limit > 10_000:
                raise SearchError("page-based paging is limited to 10000 records; use searchAfter")
            page = ordered[(page_no - 1) * limit : page_no * limit]
        return [cid for _, cid in page], len(rows)

    @staticmethod
    def _sort_value(contact: dict[str, Any], field: str) -> Any:
        value = _field_value(contact, field)
        if value is None:
            return 0 if field in DATE_FIELDS else ""
        return value if field in DATE_FIELDS else _text(value)

    def sort_value(self, contact: dict[str, Any], field: str) -> Any:
        return self._sort_value(contact, field)
