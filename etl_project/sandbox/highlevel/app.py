"""The HighLevel Contacts API v2 stand-in (paths, envelopes, errors and limits as in docs/contracts/highlevel.md)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from etl_project.platforms.highlevel.settings import ACCEPTED_VERSIONS
from etl_project.sandbox.highlevel import routes_children, routes_contacts, routes_scripted
from etl_project.sandbox.highlevel.search import SearchIndex
from etl_project.sandbox.highlevel.store import HighLevelStore
from etl_project.sandbox.limits import Faults, SlidingWindowLimiter, Stats
from etl_project.sandbox.web import ApiFault, phrase, route_template, trace_id

UNAUTHENTICATED = ("/oauth/", "/_sandbox/")
CALENDAR_VERSION = "2021-04-15"


def error_body(status: int, message: Any) -> dict[str, Any]:
    return {"statusCode": status, "message": message, "error": phrase(status), "traceId": trace_id()}


def create_app(store: HighLevelStore, limiter: SlidingWindowLimiter, faults: Faults, stats: Stats) -> FastAPI:
    app = FastAPI(title="HighLevel sandbox", docs_url=None, redoc_url=None, openapi_url=None)
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
        response = None
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if not path.startswith(UNAUTHENTICATED):
            auth = request.headers.get("Authorization", "")
            token = auth[7:] if auth.startswith("Bearer ") else ""
            version = request.headers.get("Version")
            if not token or not store.token_valid(token):
                response = JSONResponse(error_body(401, "Invalid token: access token is invalid"), status_code=401)
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

    @app.post("/oauth/token")
    async def oauth_token(request: Request) -> JSONResponse:
        # application/x-www-form-urlencoded, parsed by hand (no multipart support needed)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        s = store.settings
        client_ok = secrets.compare_digest(str(form.get("client_id", "")), s.client_id) and secrets.compare_digest(
            str(form.get("client_secret", "")), s.client_secret
        )
        if not client_ok:
            return JSONResponse(error_body(401, "Invalid client credentials"), status_code=401)
        grant = form.get("grant_type")
        if grant == "refresh_token":
            token = str(form.get("refresh_token", ""))
            if token not in store.refresh_tokens:
                return JSONResponse(error_body(401, "Invalid refresh token"), status_code=401)
            store.refresh_tokens.discard(token)  # rotation: a refresh token works once
        elif grant == "authorization_code":
            code = str(form.get("code", ""))
            if code not in store.auth_codes:
                return JSONResponse(error_body(401, "Invalid authorization code"), status_code=401)
            store.auth_codes.discard(code)
        else:
            return JSONResponse(
                error_body(422, ["grant_type must be one of authorization_code, refresh_token"]),
                status_code=422,
            )
        return JSONResponse(store.issue_tokens())

    def check_location(location_id: Any) -> None:
        if not location_id:
            raise ApiFault(422, ["locationId should not be empty"])
        if location_id != store.settings.location_id:
            raise ApiFault(403, "The token does not have access to this location.")

    @app.post("/_sandbox/oauth/code")
    async def oauth_code() -> JSONResponse:
        """Stands in for the user's consent screen: an authorization code for the token endpoint."""
        code = f"code-{secrets.token_hex(8)}"
        store.auth_codes.add(code)
        return JSONResponse({"code": code})

    @app.post("/_sandbox/oauth/expire")
    async def oauth_expire() -> JSONResponse:
        """Expire every OAuth access token now (refresh tokens stay valid)."""
        for token in store.access_tokens:
            store.access_tokens[token] = 0
        return JSONResponse({"expired": len(store.access_tokens)})

    routes_contacts.register(app, store, check_location)
    routes_children.register(app, store, check_location)
    routes_scripted.register(app, store)
    return app
