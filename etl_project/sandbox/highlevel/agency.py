"""The agency (HighLevel "Company") behind the stand-in's locations: its directory of locations, the credentials
registry every location shares, and the app that serves the company-level API (OAuth and agency endpoints).

Facts in docs/contracts/webhooks.md ("HighLevel agency (Company) access") and docs/contracts/highlevel.md (Auth).
"""

from __future__ import annotations

import asyncio
import copy
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from etl_project.platforms.highlevel.settings import ACCEPTED_VERSIONS
from etl_project.sandbox.highlevel.app import INVALID_TOKEN, error_body
from etl_project.sandbox.highlevel.store import HighLevelSettings
from etl_project.sandbox.highlevel.tokens import COMPANY, LOCATION, TokenRegistry
from etl_project.sandbox.limits import Faults, SlidingWindowLimiter, Stats
from etl_project.sandbox.locations import COMPANY_ID, COMPANY_NAME
from etl_project.sandbox.web import ApiFault, route_template
from etl_project.sandbox.webhooks import SANDBOX_APP_ID

# What HighLevel's IAM answers when a token of the wrong class (a Company token on a location's endpoint, or a
# Location token on an agency endpoint) is used: observed on real calls by several integrations.
AUTH_CLASS = (
    "This authClass type is not allowed to access this scope. Please reach out to the Platform team to get it added."
)
INACTIVE = "Location is not active"
# UNCERTAIN: no primary source gives the status or wording for minting a token where the app is not installed.
NOT_INSTALLED = "The app is not installed on this location"
AGENCY_PATHS = ("/oauth/installedLocations", "/oauth/locationToken")  # what a Company token may call
LOCATION_SCOPES = "contacts.readonly contacts.write locations/tasks.readonly calendars/events.readonly"
COMPANY_SCOPES = f"{LOCATION_SCOPES} oauth.readonly oauth.write"


@dataclass
class AgencySettings:
    company_id: str = COMPANY_ID
    company_name: str = COMPANY_NAME
    app_id: str = SANDBOX_APP_ID
    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    user_id: str = "usr-owner"
    company_token_ttl: int = 86_399
    install_to_future_locations: bool = True
    # UNCERTAIN in the contract: whether /oauth/locationToken also returns a refresh token (default: it does not).
    location_token_refresh: bool = False
    # The contract reports that refreshes with the same token inside 30 s get the same new token; 0 (the default)
    # keeps rotation strict: a used refresh token answers 401.
    refresh_reuse_grace_seconds: float = 0.0
    default_page_limit: int = 20
    max_page_limit: int = 500  # UNCERTAIN: installedLocations' maximum `limit`


@dataclass
class LocationEntry:
    location_id: str
    name: str
    address: str
    installed: bool = True
    active: bool = True

    def view(self) -> dict[str, Any]:
        """How `GET /oauth/installedLocations` lists it."""
        return {"_id": self.location_id, "name": self.name, "address": self.address, "isInstalled": self.installed}


@dataclass
class Agency:
    """The company's state: its locations (in creation order) and every credential of the app."""

    settings: AgencySettings = field(default_factory=AgencySettings)
    directory: dict[str, LocationEntry] = field(default_factory=dict)
    tokens: TokenRegistry = field(default_factory=TokenRegistry)
    # Each location's live settings (its PIT and access-token lifetime), shared with its store.
    location_settings: dict[str, HighLevelSettings] = field(default_factory=dict)

    def register(self, settings: HighLevelSettings, name: str, address: str) -> LocationEntry:
        if settings.location_id in self.directory:
            raise ValueError(f"location {settings.location_id} exists already")
        entry = LocationEntry(settings.location_id, name, address)
        self.directory[entry.location_id] = entry
        self.location_settings[entry.location_id] = settings
        self.tokens.add_pit(settings.token, entry.location_id)
        return entry

    def entry(self, location_id: str) -> LocationEntry:
        found = self.directory.get(location_id)
        if found is None:
            raise ApiFault(400, "Location not found")
        return found

    def location_auth(self, location_id: str) -> Callable[[str], str | None]:
        """The check a location's gate runs on a bearer token: None when it may call, else the 401's message."""

        def check(token: str) -> str | None:
            grant = self.tokens.grant(token)
            if grant is None or not grant.live():
                return INVALID_TOKEN
            if grant.user_type != LOCATION:
                return AUTH_CLASS
            if grant.owner != location_id:
                return INVALID_TOKEN
            entry = self.directory.get(location_id)
            if entry is not None and not entry.active:
                return INACTIVE  # UNCERTAIN: the wording for a suspended sub-account's tokens
            return None

        return check

    def token_answer(self, user_type: str, owner: str) -> dict[str, Any]:
        """What `POST /oauth/token` answers for a Location or Company grant (a new access and refresh token)."""
        s = self.settings
        if user_type == COMPANY:
            issued = self.tokens.issue(COMPANY, owner, s.company_token_ttl)
            return {
                "access_token": issued.access,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
                "refresh_token": issued.refresh,
                "scope": COMPANY_SCOPES,
                "userType": COMPANY,
                "companyId": owner,
                "userId": s.user_id,
                "isBulkInstallation": True,
                "installToFutureLocations": s.install_to_future_locations,
            }
        issued = self.tokens.issue(LOCATION, owner, self.location_settings[owner].access_token_ttl)
        return {
            "access_token": issued.access,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "refresh_token": issued.refresh,
            "scope": LOCATION_SCOPES,
            "userType": LOCATION,
            "locationId": owner,
            "companyId": s.company_id,
            "userId": s.user_id,
        }

    def state(self) -> dict[str, Any]:
        return copy.deepcopy({"directory": self.directory, "tokens": self.tokens})

    def load(self, state: dict[str, Any]) -> None:
        self.directory = copy.deepcopy(state["directory"])
        self.tokens = copy.deepcopy(state["tokens"])


def create_agency_app(agency: Agency, limiter: SlidingWindowLimiter, faults: Faults, stats: Stats) -> FastAPI:
    """The company-level API: `/oauth/token` (no bearer), the agency endpoints (a Company bearer, the company's own
    rate budget), and a 401 for a Company token on anything else (the dispatcher sends every Company token here)."""
    app = FastAPI(title="HighLevel sandbox (agency)", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(ApiFault)
    async def _fault(_: Request, exc: ApiFault) -> JSONResponse:
        return JSONResponse(exc.body or error_body(exc.status, exc.message), status_code=exc.status)

    def refuse(status: int, message: str) -> JSONResponse:
        return JSONResponse(error_body(status, message), status_code=status)

    @app.middleware("http")
    async def gate(request: Request, call_next: Any) -> Any:
        path = request.url.path
        if path.startswith("/_sandbox/"):
            return await call_next(request)
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        response, rate_headers = None, {}
        if path != "/oauth/token":
            auth = request.headers.get("Authorization", "")
            grant = agency.tokens.grant(auth[7:] if auth.startswith("Bearer ") else "")
            version = request.headers.get("Version")
            if grant is None or not grant.live():
                response = refuse(401, INVALID_TOKEN)
            elif grant.user_type != COMPANY or path not in AGENCY_PATHS:
                response = refuse(401, AUTH_CLASS)
            elif version is None:
                response = refuse(400, "version header was not found")
            elif version not in ACCEPTED_VERSIONS:
                response = refuse(400, f"version {version} is not supported")
            else:
                request.state.company_id = grant.owner
                decision = limiter.check(grant.owner)  # the company's own budget, apart from its locations'
                rate_headers = decision.headers
                if not decision.allowed:
                    response = refuse(
                        429, "Too many requests" if not decision.daily_exhausted else "Daily limit exceeded"
                    )
                elif faults.should_fail(path):
                    response = refuse(faults.error_status, "Injected failure")
        if response is None:
            response = await call_next(request)
        response.headers.update(rate_headers)
        is_write = request.method == "POST" and path != "/oauth/token"
        stats.record(request.method, route_template(path), response.status_code, is_write)
        return response

    return app


def client_ok(settings: AgencySettings, form: dict[str, str]) -> bool:
    return secrets.compare_digest(form.get("client_id", ""), settings.client_id) and secrets.compare_digest(
        form.get("client_secret", ""), settings.client_secret
    )
