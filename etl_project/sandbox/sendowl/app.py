"""The SendOwl API stand-in (paths, envelopes, errors and IP-style blocking as in docs/contracts/sendowl.md).

What every request goes through, in order: HTTP Basic auth (401), the once-per-second rule (403 while the key is
blocked), the required `Accept: application/json` (415), injected faults, then the routes in `routes.py`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import secrets
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from etl_project.sandbox.limits import Faults, RateLimitSettings, SlidingWindowLimiter, Stats
from etl_project.sandbox.sendowl import routes
from etl_project.sandbox.sendowl.store import SendOwlStore
from etl_project.sandbox.web import ApiFault, route_template

ACCEPT_MESSAGE = "Please specify a supported Accept header (application/json)"
_NUMBER_SEGMENT = re.compile(r"/\d+(?=/|$)")


def rate_limit_settings(enabled: bool = True) -> RateLimitSettings:
    """The limiter settings that detect SendOwl's rule: no more than one request per second per key."""
    return RateLimitSettings(enabled=enabled, burst_max=1, interval_ms=1_000, daily_limit=1_000_000_000)


def basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    key, sep, secret = decoded.partition(":")
    return (key, secret) if sep else None


def accepts_json(header: str) -> bool:
    # SendOwl wants JSON asked for by name: `*/*` (httpx's and curl's default) is refused.
    return any(part.split(";")[0].strip().lower() == "application/json" for part in header.split(","))


def stats_path(path: str) -> str:
    """`/api/v1_3/orders/3000123` → `/api/v1_3/orders/{id}` (SendOwl ids are plain integers)."""
    return _NUMBER_SEGMENT.sub("/{id}", route_template(path))


def create_app(store: SendOwlStore, limiter: SlidingWindowLimiter, faults: Faults, stats: Stats) -> FastAPI:
    """`limiter` detects calls faster than the rule allows (see `rate_limit_settings`); disabled, nobody is blocked."""
    app = FastAPI(title="SendOwl sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = store

    @app.exception_handler(ApiFault)
    async def _fault(_: Request, exc: ApiFault) -> JSONResponse:
        return JSONResponse(exc.body if exc.body is not None else exc.message, status_code=exc.status)

    def is_blocked(key: str) -> bool:
        """Has `key` broken the once-per-second rule, now or within the last `block_seconds`?"""
        if not limiter.settings.enabled:
            return False
        now = time.monotonic()
        if store.blocked_until.get(key, 0.0) > now:
            return True  # requests during the block are refused and do not count
        if not limiter.check(key, now).allowed:
            store.blocked_until[key] = now + store.settings.block_seconds
            return True
        return False

    def gate(request: Request) -> Response | None:
        settings = store.settings
        creds = basic_credentials(request.headers.get("Authorization", ""))
        if creds is None or not (
            secrets.compare_digest(creds[0], settings.key) and secrets.compare_digest(creds[1], settings.secret)
        ):
            return JSONResponse(
                {"error": "HTTP Basic: Access denied."},
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="Application"'},
            )
        if is_blocked(settings.key):
            body = {"error": "Access denied: more than one request per second. Try again later."}
            return JSONResponse(body, status_code=403)
        if not accepts_json(request.headers.get("Accept", "")):
            return PlainTextResponse(ACCEPT_MESSAGE, status_code=415)
        if faults.should_fail(request.url.path):
            return JSONResponse({"error": "Injected failure"}, status_code=faults.error_status)
        return None

    @app.middleware("http")
    async def middleware(request: Request, call_next: Any) -> Any:
        path = request.url.path
        if path.startswith("/_sandbox/"):
            return await call_next(request)
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        response = gate(request)
        if response is None:
            response = await call_next(request)
        is_write = request.method in {"POST", "PUT", "DELETE"}
        stats.record(request.method, stats_path(path), response.status_code, is_write)
        return response

    routes.register(app, store)
    return app
