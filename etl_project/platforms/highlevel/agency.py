"""HighLevel agency (Company) access: the locations an agency installed the app on, and location tokens minted
from the Company grant (docs/contracts/webhooks.md, "HighLevel agency (Company) access").

A Company token cannot call the Contacts API; each location's calls use a location token minted through
`POST /oauth/locationToken`, valid about a day and not refreshable (UNCERTAIN whether a refresh token comes with
it, so none is relied on): a new one is minted from the Company token before the old one expires. Minted tokens
are kept in a file per location (mode 0600, replaced atomically, minting serialised by a file lock) so every run
process of that location on every worker shares one token instead of minting its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from etl_project.platforms import errors
from etl_project.platforms.highlevel.auth import OAuthRefreshAuth, OAuthTokens, TokenStore
from etl_project.platforms.highlevel.settings import CONTACTS_VERSION, TOKEN_PATH
from etl_project.platforms.http import ApiClient, RetryPolicy

INSTALLED_LOCATIONS_PATH = "/oauth/installedLocations"
LOCATION_TOKEN_PATH = "/oauth/locationToken"
INSTALLED_PAGE = 100
# Mint a new location token this long before the current one expires, so no run starts with a token about to die.
RENEW_MARGIN_SECONDS = 3_600.0


class LocationInactiveError(errors.AuthenticationError):
    """HighLevel refused a location token because the sub-account is not active (suspended): pause that location,
    never the agency."""


class AppNotInstalledError(errors.AuthenticationError):
    """The app is no longer installed on the location (or never was): its token cannot be minted."""


@dataclass(frozen=True)
class InstalledLocation:
    id: str
    name: str
    address: str
    installed: bool


class AgencyClient(ApiClient):
    """Calls made with the agency's Company token (its own rate budget, not a location's)."""

    platform = "highlevel"

    def __init__(self, http: httpx.Client, company_id: str, app_id: str, **kwargs: Any) -> None:
        http.headers.setdefault("Version", CONTACTS_VERSION)
        http.headers.setdefault("Accept", "application/json")
        super().__init__(http, **kwargs)
        self.company_id = company_id
        self.app_id = app_id

    def installed_locations(self) -> Iterator[InstalledLocation]:
        """Every location of the company, paged by skip/limit, with whether the app is installed there."""
        skip = 0
        while True:
            params = {"companyId": self.company_id, "appId": self.app_id, "skip": skip, "limit": INSTALLED_PAGE}
            body = self.request("GET", INSTALLED_LOCATIONS_PATH, params=params).json()
            page = body.get("locations") or []
            for row in page:
                yield InstalledLocation(
                    id=str(row["_id"]),
                    name=str(row.get("name") or ""),
                    address=str(row.get("address") or ""),
                    installed=bool(row.get("isInstalled", True)),
                )
            skip += len(page)
            if len(page) < INSTALLED_PAGE or skip >= int(body.get("count") or 0):
                return

    def mint_location_token(self, location_id: str, clock: Callable[[], float] = time.time) -> OAuthTokens:
        """A new location access token (`refresh_token` empty: a new one is minted instead of refreshing)."""
        try:
            response = self.request(
                "POST",
                LOCATION_TOKEN_PATH,
                data={"companyId": self.company_id, "locationId": location_id},
                idempotent=True,  # minting twice only leaves an unused token behind
            )
        except errors.InvalidRequestError as exc:
            message = exc.message.lower()
            if "not active" in message:
                raise LocationInactiveError("highlevel", exc.message, status_code=exc.status_code) from exc
            if "install" in message:
                raise AppNotInstalledError("highlevel", exc.message, status_code=exc.status_code) from exc
            raise
        body = response.json()
        return OAuthTokens(str(body["access_token"]), "", clock() + float(body.get("expires_in", 86_399)))


def company_auth(client_id: str, client_secret: str, store: TokenStore) -> OAuthRefreshAuth:
    """The Company grant's auth: rotating refresh tokens persisted in `store`, refreshed as `user_type=Company`."""
    return OAuthRefreshAuth(client_id, client_secret, store, user_type="Company")


def exchange_code(
    http: httpx.Client, client_id: str, client_secret: str, code: str, clock: Callable[[], float] = time.time
) -> tuple[OAuthTokens, dict[str, Any]]:
    """Trade the agency's authorisation code for the Company token pair (and the grant's `companyId`)."""
    response = http.post(
        TOKEN_PATH,
        data={
            "client_id": client_id,
            "client_secret": client_secret,
            "grant_type": "authorization_code",
            "code": code,
            "user_type": "Company",
        },
        headers={"Accept": "application/json"},
    )
    if response.status_code != 200:
        raise errors.AuthenticationError(
            "highlevel", "authorisation code refused", status_code=response.status_code, method="POST", path=TOKEN_PATH
        )
    body = response.json()
    tokens = OAuthTokens(body["access_token"], body["refresh_token"], clock() + float(body.get("expires_in", 86_399)))
    grant = {k: body[k] for k in ("userType", "companyId", "isBulkInstallation") if k in body}
    return tokens, grant


class LocationTokenAuth(httpx.Auth):
    """Bearer auth for one location with a token minted from the Company grant, renewed before it expires and
    re-minted once on a 401 (revoked early). `mint` is `AgencyClient.mint_location_token` bound to the location."""

    def __init__(
        self,
        store: TokenStore,
        mint: Callable[[], OAuthTokens],
        clock: Callable[[], float] = time.time,
        renew_margin: float = RENEW_MARGIN_SECONDS,
    ) -> None:
        self.store = store
        self._mint = mint
        self._clock = clock
        self._margin = renew_margin
        self.minted = 0

    def __repr__(self) -> str:
        return f"LocationTokenAuth(store={self.store.path})"

    def current(self) -> OAuthTokens:
        tokens = self.store.load()
        if tokens is not None and not tokens.expired(self._clock(), self._margin):
            return tokens
        return self._renew(tokens)

    def _renew(self, seen: OAuthTokens | None) -> OAuthTokens:
        with self.store.locked():
            latest = self.store.load()
            if latest is not None and latest != seen and not latest.expired(self._clock(), self._margin):
                return latest  # another process minted while we waited for the lock
            fresh = self._mint()
            self.store.save(fresh)
            self.minted += 1
            return fresh

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        tokens = self.current()
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
        response = yield request
        if response.status_code == 401:
            tokens = self._renew(tokens)
            request.headers["Authorization"] = f"Bearer {tokens.access_token}"
            yield request


def agency_client(
    base_url: str,
    client_id: str,
    client_secret: str,
    token_store: Path,
    company_id: str,
    app_id: str,
    *,
    timeout: float = 30.0,
    verify: Any = True,
    retry: RetryPolicy | None = None,
) -> AgencyClient:
    http = httpx.Client(
        base_url=base_url,
        auth=company_auth(client_id, client_secret, TokenStore(token_store)),
        timeout=timeout,
        verify=verify,
    )
    return AgencyClient(http, company_id, app_id, retry=retry)
