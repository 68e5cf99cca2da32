"""What an agency's staff and its clients do outside the API, scripted under `/_sandbox/` (no token): consent to the
app (an authorization code), add a sub-account, suspend or reactivate one, uninstall or reinstall the app there,
revoke its tokens, expire every access token, change lifetimes.

Each route answers JSON; a location is named by its id in the path.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from etl_project.sandbox.highlevel.agency import Agency, LocationEntry
from etl_project.sandbox.highlevel.tokens import COMPANY, LOCATION
from etl_project.sandbox.locations import LocationAccount
from etl_project.sandbox.web import ApiFault

AddLocation = Callable[[int | None, str | None], LocationAccount]
Accounts = Callable[[], list[LocationAccount]]
EmitAt = Callable[[str, str, Mapping[str, Any]], None]  # location id, event type, record
AGENCY_KNOBS = (
    "company_token_ttl",
    "install_to_future_locations",
    "location_token_refresh",
    "refresh_reuse_grace_seconds",
    "default_page_limit",
    "max_page_limit",
)
LOCATION_KNOBS = ("access_token_ttl", "allow_duplicates")


async def body_of(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = json.loads(raw) if raw else {}
    if not isinstance(data, dict):
        raise ApiFault(422, ["body must be an object"])
    return data


def register(app: FastAPI, agency: Agency, add_location: AddLocation, accounts: Accounts, emit: EmitAt) -> None:
    def entry_or_404(location_id: str) -> LocationEntry:
        found = agency.directory.get(location_id)
        if found is None:
            raise ApiFault(404, f"Unknown location {location_id}")
        return found

    def view(entry: LocationEntry) -> dict[str, Any]:
        account = next((a for a in accounts() if a.location_id == entry.location_id), None)
        return {
            "locationId": entry.location_id,
            "name": entry.name,
            "address": entry.address,
            "isInstalled": entry.installed,
            "isActive": entry.active,
            "accessTokenTtl": agency.location_settings[entry.location_id].access_token_ttl,
            "account": asdict(account) if account else None,
        }

    @app.post("/_sandbox/oauth/code")
    async def oauth_code(user_type: str = LOCATION, location: str | None = None) -> JSONResponse:
        """Stands in for the consent screen: a Location's (`location`, default the first) or the agency's code."""
        if user_type == COMPANY:
            return JSONResponse({"code": agency.tokens.new_code(COMPANY, agency.settings.company_id)})
        if user_type != LOCATION:
            raise ApiFault(422, ["user_type must be one of Location, Company"])
        owner = location or next(iter(agency.directory))
        entry_or_404(owner)
        return JSONResponse({"code": agency.tokens.new_code(LOCATION, owner)})

    @app.post("/_sandbox/oauth/expire")
    async def oauth_expire() -> JSONResponse:
        """Expire every OAuth access token now (Location, Company and minted ones); refresh tokens stay valid."""
        return JSONResponse({"expired": agency.tokens.expire_all()})

    @app.get("/_sandbox/oauth/settings")
    @app.post("/_sandbox/oauth/settings")
    async def oauth_settings(request: Request) -> Any:
        body = await body_of(request)
        s = agency.settings
        for name in AGENCY_KNOBS:
            if name in body:
                setattr(s, name, type(getattr(s, name))(body[name]))
        return {"companyId": s.company_id, "appId": s.app_id, **{name: getattr(s, name) for name in AGENCY_KNOBS}}

    @app.get("/_sandbox/locations")
    async def list_locations() -> Any:
        s = agency.settings
        return {
            "companyId": s.company_id,
            "appId": s.app_id,
            "locations": [view(e) for e in agency.directory.values()],
        }

    @app.post("/_sandbox/locations")
    async def create_location(request: Request) -> JSONResponse:
        """A new sub-account, the app installed on it (with the agency's install to future locations), seeded."""
        body = await body_of(request)
        contacts, name = body.get("contacts"), body.get("name")
        if contacts is not None and (not isinstance(contacts, int) or contacts < 0):
            raise ApiFault(422, ["contacts must be a non-negative integer"])
        account = add_location(contacts, str(name) if name else None)
        entry = agency.directory[account.location_id]
        s = agency.settings
        emit(
            entry.location_id,
            "LocationCreate",
            {"id": entry.location_id, "name": entry.name, "companyId": s.company_id},
        )
        _installed(emit, agency, entry)
        return JSONResponse({**view(entry), "token": account.highlevel_token}, status_code=201)

    @app.post("/_sandbox/locations/{location_id}/{action}")
    async def act(location_id: str, action: str, request: Request) -> Any:
        entry = entry_or_404(location_id)
        revoked = 0
        if action in ("deactivate", "activate"):
            entry.active = action == "activate"  # tokens are kept: they answer 401 while the location is inactive
        elif action == "uninstall":
            entry.installed = False
            revoked = agency.tokens.revoke(location_id, pit=False)  # the app's tokens; a PIT is not the app's
            emit(location_id, "UNINSTALL", {"companyId": agency.settings.company_id})
        elif action == "install":
            entry.installed = True
            _installed(emit, agency, entry)
        elif action == "revoke":
            revoked = agency.tokens.revoke(location_id, pit=True)
        elif action == "settings":
            body = await body_of(request)
            settings = agency.location_settings[location_id]
            for name in LOCATION_KNOBS:
                if name in body:
                    setattr(settings, name, type(getattr(settings, name))(body[name]))
            for name in ("name", "address"):
                if name in body:
                    setattr(entry, name, str(body[name]))
        else:
            raise ApiFault(404, f"Unknown action {action}")
        return {**view(entry), "revoked": revoked}


def _installed(emit: EmitAt, agency: Agency, entry: LocationEntry) -> None:
    s = agency.settings
    record = {"installType": "Location", "companyId": s.company_id, "userId": s.user_id, "companyName": s.company_name}
    emit(entry.location_id, "INSTALL", record)
