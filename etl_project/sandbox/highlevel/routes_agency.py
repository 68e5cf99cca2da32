"""HighLevel's OAuth and agency endpoints: the token endpoint (Location and Company grants, rotating refresh tokens),
the locations an agency installed the app on, and a location token minted from the Company token.

Shapes from HighLevel's public SDK types (`GetAccessTokenSuccessfulResponseDto`, `InstalledLocationSchema`,
`GetInstalledLocationsSuccessfulResponseDto`, `GetLocationAccessTokenSuccessfulResponseDto`).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from etl_project.sandbox.highlevel.agency import (
    INACTIVE,
    LOCATION_SCOPES,
    NOT_INSTALLED,
    Agency,
    client_ok,
    error_body,
)
from etl_project.sandbox.highlevel.tokens import COMPANY, LOCATION
from etl_project.sandbox.web import ApiFault, trace_id

USER_TYPES = (LOCATION, COMPANY)


async def form_of(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body, parsed by hand (no multipart support needed)."""
    return {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}


def register(app: FastAPI, agency: Agency) -> None:
    # `agency.tokens` is read on every call, never kept: restoring a snapshot replaces the registry.
    @app.post("/oauth/token")
    async def oauth_token(request: Request) -> JSONResponse:
        form = await form_of(request)
        if not client_ok(agency.settings, form):
            return JSONResponse(error_body(401, "Invalid client credentials"), status_code=401)
        grant_type, wanted = form.get("grant_type"), form.get("user_type")
        if wanted is not None and wanted not in USER_TYPES:
            raise ApiFault(422, ["user_type must be one of Location, Company"])
        if grant_type == "refresh_token":
            return refresh(form.get("refresh_token", ""))
        if grant_type == "authorization_code":
            grant = agency.tokens.codes.pop(form.get("code", ""), None)
            if grant is None:
                return JSONResponse(error_body(401, "Invalid authorization code"), status_code=401)
            if wanted is not None and wanted != grant.user_type:
                # UNCERTAIN: what HighLevel answers when `user_type` contradicts who consented.
                raise ApiFault(400, f"This authorization code was issued for user_type {grant.user_type}")
            if grant.user_type == LOCATION:
                agency.entry(grant.owner).installed = True  # a location's consent installs the app there
            return JSONResponse(agency.token_answer(grant.user_type, grant.owner))
        raise ApiFault(422, ["grant_type must be one of authorization_code, refresh_token"])

    def refresh(token: str) -> JSONResponse:
        registry = agency.tokens
        used = registry.rotated.get(token)
        if used is not None and time.time() - used[0] < agency.settings.refresh_reuse_grace_seconds:
            return JSONResponse(used[1])  # the same refresh inside the grace period: the same new tokens
        grant = registry.refresh.get(token)
        if grant is None or not grant.live():
            return JSONResponse(error_body(401, "Invalid refresh token"), status_code=401)
        if grant.user_type == LOCATION and not agency.entry(grant.owner).active:
            raise ApiFault(400, INACTIVE)  # the contract: a suspended sub-account's refresh fails, its token stays
        del registry.refresh[token]  # rotation: a refresh token works once
        answer = agency.token_answer(grant.user_type, grant.owner)
        registry.rotated[token] = (time.time(), answer)
        return JSONResponse(answer)

    def company_of(request: Request, company_id: str | None) -> str:
        if not company_id:
            raise ApiFault(422, ["companyId should not be empty"])
        if company_id != request.state.company_id:
            raise ApiFault(403, "The token does not have access to this company.")
        return company_id

    @app.get("/oauth/installedLocations")
    async def installed_locations(request: Request) -> Any:
        params = request.query_params
        company_of(request, params.get("companyId"))
        app_id = params.get("appId")
        if not app_id:
            raise ApiFault(422, ["appId should not be empty"])
        if app_id != agency.settings.app_id:
            raise ApiFault(400, "App not found")  # UNCERTAIN wording
        skip = _number(params.get("skip"), 0, "skip")
        limit = _number(params.get("limit"), agency.settings.default_page_limit, "limit")
        if limit < 1 or limit > agency.settings.max_page_limit:
            raise ApiFault(422, [f"limit must not be greater than {agency.settings.max_page_limit}"])
        rows = list(agency.directory.values())
        if params.get("isInstalled") in ("true", "false"):
            rows = [e for e in rows if e.installed == (params["isInstalled"] == "true")]
        if params.get("query"):
            rows = [e for e in rows if params["query"].lower() in e.name.lower()]
        return {
            "locations": [e.view() for e in rows[skip : skip + limit]],
            "count": len(rows),
            "installToFutureLocations": agency.settings.install_to_future_locations,
            "traceId": trace_id(),
        }

    @app.post("/oauth/locationToken")
    async def location_token(request: Request) -> Any:
        form = await form_of(request)
        missing = [f"{name} should not be empty" for name in ("companyId", "locationId") if not form.get(name)]
        if missing:
            raise ApiFault(422, missing)
        company_of(request, form["companyId"])
        entry = agency.entry(form["locationId"])
        if not entry.active:
            raise ApiFault(400, INACTIVE)
        if not entry.installed:
            raise ApiFault(400, NOT_INSTALLED)
        ttl = agency.location_settings[entry.location_id].access_token_ttl
        issued = agency.tokens.issue(LOCATION, entry.location_id, ttl, agency.settings.location_token_refresh)
        answer: dict[str, Any] = {
            "access_token": issued.access,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": LOCATION_SCOPES,
            "locationId": entry.location_id,
            "userId": agency.settings.user_id,
            "userType": LOCATION,
        }
        if issued.refresh is not None:
            answer["refresh_token"] = issued.refresh
        return answer


def _number(value: str | None, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ApiFault(422, [f"{name} must be a number"]) from None
    if number < 0:
        raise ApiFault(422, [f"{name} must not be less than 0"])
    return number
