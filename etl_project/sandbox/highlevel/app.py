"""The HighLevel Contacts API v2 stand-in (paths, envelopes, errors and limits as in docs/contracts/highlevel.md)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from etl_project.platforms.highlevel.settings import ACCEPTED_VERSIONS
from etl_project.sandbox.highlevel import routes_children, routes_contacts, routes_scripted
from etl_project.sandbox.highlevel.search import SearchIndex
from etl_project.sandbox.highlevel.store import HighLevelStore
from etl_project.sandbox.limits import Faults, SlidingWindowLimiter, Stats
from etl_project.sandbox.web import ApiFault, phrase, route_template, trace_id

CALENDAR_VERSION = "2021-04-15"
INVALID_TOKEN = "Invalid token: access token is invalid"
Auth = Callable[[str], str | None]  # a bearer token -> None when it may call this location, else the 401's message


def error_body(status: int, message: Any) -> dict[str, Any]:
    return {"statusCode": status, "message": message, "error": phrase(status), "traceId": trace_id()}


def pit_only(store: HighLevelStore) -> Auth:
    """The check of a location served alone: its Private Integration Token and nothing else."""
    return lambda token: None if secrets.compare_digest(token, store.settings.token) else INVALID_TOKEN


def create_app(
    store: HighLevelStore,
    limiter: SlidingWindowLimiter,
    faults: Faults,
    stats: Stats,
    auth: Auth | None = None,
) -> FastAPI:
    """One location's API. `auth` checks bearer tokens (the agency's registry when the sandbox serves several
    locations: see `highlevel/agency.py`); OAuth and the agency endpoints are the agency's app."""
    app = FastAPI(title="HighLevel sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    check_token = auth or pit_only(store)
    app.state.store = store
    app.state.search = SearchIndex()

    @app.exception_handler(ApiFault)
    async def _fault(_: Request, exc: ApiFault) -> JSONResponse:
        return JSONResponse(exc.body or error_body(exc.status, exc.message), status_code=exc.status)

    @app.middleware("http")
    async def gate(request: Request, call_next: Any) -> Any:
        path = request.url.path
        is_write = request.method in {"POST", "PUT", "DELETE"} and not path.endswith("/search")
        if path.startswith("/_sandbox/"):
            return await call_next(request)
        rate_headers: dict[str, str] = {}
        response: Any = None
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        # Every API path needs a token (OAuth and the agency endpoints are served by the agency's app).
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        version = request.headers.get("Version")
        refused = check_token(token) if token else INVALID_TOKEN
        if refused is not None:
            response = JSONResponse(error_body(401, refused), status_code=401)
        elif version is None:
            response = JSONResponse(error_body(400, "version header was not found"), status_code=400)
        elif version not in (*ACCEPTED_VERSIONS, CALENDAR_VERSION):
            response = JSONResponse(error_body(400, f"version {version} is not supported"), status_code=400)
        else:
            decision = limiter.check(store.settings.location_id)
            rate_headers = decision.headers
            if not decision.allowed:
                message = "Too many requests" if not decision.daily_exhausted else "Daily limit exceeded"
                response = JSONResponse(error_body(429, message), status_code=429)
            elif faults.should_fail(path):
                status = faults.error_status
                response = JSONResponse(error_body(status, "Injected failure"), status_code=status)
        if response is None:
            response = await call_next(request)
        response.headers.update(rate_headers)
        stats.record(request.method, route_template(path), response.status_code, is_write)
        return response

    def check_location(location_id: Any) -> None:
        if not location_id:
            raise ApiFault(422, ["locationId should not be empty"])
        if location_id != store.settings.location_id:
            raise ApiFault(403, "The token does not have access to this location.")

    routes_contacts.register(app, store, check_location)
    routes_children.register(app, store, check_location)
    routes_scripted.register(app, store)
    return app
