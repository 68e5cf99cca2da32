"""Dagster resources: typed configuration that hands out plain clients (`get_client()`)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

import dagster as dg
import httpx
from dagster_duckdb import DuckDBResource
from pydantic import Field

from etl_project.defs.location_scope import LocationScoped
from etl_project.platforms.highlevel import BearerTokenAuth, HighLevelClient, OAuthRefreshAuth, OAuthTokens, TokenStore
from etl_project.platforms.highlevel.agency import LocationTokenAuth, agency_client
from etl_project.platforms.highlevel.auth import DEFAULT_TOKEN_STORE
from etl_project.platforms.highlevel.settings import DEFAULT_LOOKBACK_MINUTES, REAL_BASE_URL
from etl_project.platforms.http import RetryPolicy, tls_context
from etl_project.platforms.pacing import IntervalPacer, WindowPacer, budget_key, machine_pacer
from etl_project.platforms.sendapp import SendAppClient
from etl_project.platforms.sendapp.settings import REAL_BASE_URL as SENDAPP_REAL_BASE_URL
from etl_project.platforms.sendowl import SendOwlClient
from etl_project.platforms.sendowl.settings import REAL_BASE_URL as SENDOWL_REAL_BASE_URL
from etl_project.settings import state_dir
from etl_project.tenants.resolve import LocationAccess, Tenancy
from etl_project.warehouse.connections import attached
from etl_project.warehouse.store import Warehouse


def retry_policy(resource: HighLevelResource | SendAppResource | SendOwlResource) -> RetryPolicy:
    return RetryPolicy(
        resource.max_attempts, resource.retry_base_delay_seconds, max_total_wait=resource.max_total_wait_seconds
    )


class HighLevelResource(LocationScoped):
    """HighLevel Contacts API v2 for one location (Private Integration Token or OAuth), or for the run's location
    of a many-location deployment (its PIT, or a token minted from the agency's Company grant)."""

    base_url: str = Field(default=REAL_BASE_URL, description="API base URL; the sandbox's for local runs.")
    location_id: str = Field(default="", description="The sub-account (location) to sync (one-location set-up).")
    token: str | None = Field(default=None, description="Private Integration Token (bind with dg.EnvVar).")
    client_id: str | None = Field(default=None, description="OAuth client id (instead of a token).")
    client_secret: str | None = Field(default=None, description="OAuth client secret (bind with dg.EnvVar).")
    token_store_path: str = Field(
        default=str(DEFAULT_TOKEN_STORE), description="Where rotated OAuth tokens are persisted (mode 0600)."
    )
    timeout_seconds: float = Field(default=30.0, description="Per-request timeout.")
    max_attempts: int = Field(default=6, description="Attempts per request on 429/5xx/transport errors.")
    max_total_wait_seconds: float = Field(default=180.0, description="Cap on time spent waiting to retry.")
    retry_base_delay_seconds: float = Field(
        default=0.5, description="Backoff before the first retry without Retry-After; doubles per attempt."
    )
    daily_reserve: int = Field(default=1_000, description="Stop when fewer daily requests than this remain.")
    search_date_format: Literal["iso", "epoch_ms"] = Field(
        default="iso", description="Date format in search range filters (HighLevel's docs are unclear)."
    )
    page_limit: int = Field(default=500, description="Contacts per search page (max 500).")
    lookback_minutes: int = Field(
        default=DEFAULT_LOOKBACK_MINUTES,
        description="Overlap re-read before each window: the search index lags writes.",
    )

    child_sweep_per_run: int = Field(
        default=50, description="Unchanged contacts whose tasks/notes/appointments each live run re-reads."
    )

    def _location_auth(self, access: LocationAccess, tenancy: Tenancy) -> httpx.Auth:
        if access.highlevel_token:
            return BearerTokenAuth(access.highlevel_token)
        if tenancy.agency is None:
            raise dg.DagsterInvariantViolationError(f"location {access.id} has no HighLevel token and no agency grant")
        client_id, client_secret = tenancy.agency_secrets()
        grant = tenancy.agency

        def mint() -> OAuthTokens:  # rarely (about once a day per location): a client of its own each time
            with agency_client(
                self.base_url,
                client_id,
                client_secret,
                tenancy.company_token_path,
                grant.company_id,
                grant.app_id,
                timeout=self.timeout_seconds,
                verify=tls_context(),
            ) as agency:
                return agency.mint_location_token(access.id)

        return LocationTokenAuth(TokenStore(access.token_path), mint)

    def get_client(self) -> HighLevelClient:
        auth: httpx.Auth
        location_id = self.location_id
        if self.locations_file:
            access, tenancy = self.run_location()  # resolved once: credentials, paused or not
            auth, location_id = self._location_auth(access, tenancy), access.id
        elif self.token:
            auth = BearerTokenAuth(self.token)
        elif self.client_id and self.client_secret:
            auth = OAuthRefreshAuth(self.client_id, self.client_secret, TokenStore(Path(self.token_store_path)))
        else:
            raise dg.DagsterInvariantViolationError(
                "HighLevel needs HIGHLEVEL_TOKEN, or HIGHLEVEL_CLIENT_ID and HIGHLEVEL_CLIENT_SECRET"
            )
        http = httpx.Client(base_url=self.base_url, auth=auth, timeout=self.timeout_seconds, verify=tls_context())
        retry = retry_policy(self)
        # The burst limit is per location: every client of this location on this machine spends one ledger.
        key = budget_key("highlevel", self.base_url, location_id)
        pacer = machine_pacer(key, Path(state_dir()), lambda ledger: WindowPacer(ledger=ledger))
        return HighLevelClient(
            http,
            location_id,
            on_refused=self.refusal_handler("HighLevel"),
            pacer=pacer,
            retry=retry,
            daily_reserve=self.daily_reserve,
            search_date_format=self.search_date_format,
            page_limit=self.page_limit,
        )


class SendAppResource(LocationScoped):
    """SendApp (WhatsApp CRM) for one account: base URL is the account's domain + `/api`."""

    base_url: str = Field(default=SENDAPP_REAL_BASE_URL, description="The account's API base (domain + /api).")
    api_key: str = Field(default="", description="The account's API key (bind with dg.EnvVar).")
    channel_token: str | None = Field(default=None, description="WhatsApp channel token for sending messages.")
    timeout_seconds: float = Field(default=30.0, description="Per-request timeout.")
    min_interval_seconds: float = Field(
        default=1.0,
        description="Pacing: at least this long between requests (SendApp's modeled limit is 60 requests a minute).",
    )
    max_attempts: int = Field(default=6, description="Attempts per request on 429/5xx/transport errors.")
    max_total_wait_seconds: float = Field(default=180.0, description="Cap on time spent waiting to retry.")
    retry_base_delay_seconds: float = Field(
        default=0.5, description="Backoff before the first retry without Retry-After; doubles per attempt."
    )
    lookback_minutes: int = Field(default=15, description="Overlap re-read before each window.")

    child_sweep_per_run: int = Field(
        default=10, description="Unchanged contacts whose tasks/notes each live run re-reads (1 request each)."
    )

    @property
    def configured(self) -> bool:
        """Whether the run's location has a SendApp account (always, in the one-location set-up)."""
        return not self.locations_file or self.run_location()[0].has_sendapp

    def account(self) -> tuple[str, str, str | None]:
        """(base URL, API key, channel token) of this run's account."""
        if not self.locations_file:
            return self.base_url, self.api_key, self.channel_token
        access = self.run_location()[0]
        if access.sendapp_api_key is None:
            raise dg.DagsterInvariantViolationError(f"location {access.id} has no SendApp account")
        return access.sendapp_base_url or self.base_url, access.sendapp_api_key, access.sendapp_channel_token

    def get_client(self) -> SendAppClient:
        base_url, api_key, _ = self.account()
        http = httpx.Client(base_url=base_url, timeout=self.timeout_seconds, verify=tls_context())
        retry = retry_policy(self)
        key = budget_key("sendapp", base_url, api_key)
        pacer = machine_pacer(
            key, Path(state_dir()), lambda ledger: IntervalPacer(self.min_interval_seconds, ledger=ledger)
        )
        return SendAppClient(http, api_key, retry=retry, pacer=pacer, on_refused=self.refusal_handler("SendApp"))


class SendOwlResource(LocationScoped):
    """SendOwl (https://www.sendowl.com/developers/api): HTTP Basic auth with the API key and secret."""

    base_url: str = Field(default=SENDOWL_REAL_BASE_URL, description="www.sendowl.com or api.sendowl.com.")
    key: str = Field(default="", description="API key (bind with dg.EnvVar).")
    secret: str = Field(default="", description="API secret (bind with dg.EnvVar).")
    timeout_seconds: float = Field(default=30.0, description="Per-request timeout.")
    min_interval_seconds: float = Field(
        default=1.0, description="Pacing: SendOwl blocks callers faster than one request a second."
    )
    block_cooldown_seconds: float = Field(default=30.0, description="Wait after a 403 block before retrying.")
    max_attempts: int = Field(default=6, description="Attempts per request on 429/5xx/403-block/transport errors.")
    max_total_wait_seconds: float = Field(default=180.0, description="Cap on time spent waiting to retry.")
    retry_base_delay_seconds: float = Field(
        default=0.5, description="Backoff before the first retry without Retry-After; doubles per attempt."
    )
    use_updated_after: bool = Field(
        default=True,
        description="Filter orders with `updated_after` (UNCERTAIN: only two sources report it). "
        "Off: re-scan a trailing window of creation dates instead.",
    )
    trailing_days: int = Field(default=30, description="Creation-date window re-scanned when updated_after is off.")
    lookback_minutes: int = Field(default=15, description="Overlap re-read before each window.")

    @property
    def configured(self) -> bool:
        """Whether the run's location has a SendOwl shop (always, in the one-location set-up)."""
        return not self.locations_file or self.run_location()[0].has_sendowl

    def get_client(self) -> SendOwlClient:
        key, secret = self.key, self.secret
        if self.locations_file:
            access = self.run_location()[0]
            if access.sendowl_key is None or access.sendowl_secret is None:
                raise dg.DagsterInvariantViolationError(f"location {access.id} has no SendOwl account")
            key, secret = access.sendowl_key, access.sendowl_secret
        http = httpx.Client(
            base_url=self.base_url,
            auth=httpx.BasicAuth(key, secret),
            timeout=self.timeout_seconds,
            verify=tls_context(),
        )
        retry = retry_policy(self)
        # SendOwl blocks the account for a second request within a second, whichever run process sent it.
        budget = budget_key("sendowl", self.base_url, key)
        pacer = machine_pacer(
            budget, Path(state_dir()), lambda ledger: IntervalPacer(self.min_interval_seconds, ledger=ledger)
        )
        return SendOwlClient(
            http,
            retry=retry,
            pacer=pacer,
            block_cooldown=self.block_cooldown_seconds,
            on_refused=self.refusal_handler("SendOwl"),
        )


class WarehouseResource(DuckDBResource, LocationScoped):
    """The DuckDB warehouse: `database` in the one-location set-up, the run's location's own file otherwise."""

    database: str = Field(default="", description="Path of the DuckDB file (one-location set-up).")

    def location_database(self) -> str:
        return str(self.run_location()[0].warehouse_path) if self.locations_file else self.database


def get_warehouse(duckdb: DuckDBResource) -> Warehouse:
    """A warehouse whose every transaction opens (with DuckDB's lock retries) and closes its own connection: the
    file attached to the process's DuckDB instance (`warehouse/connections.py`), or, for a database that is not a
    plain file (`:memory:`, `md:…`) or has DuckDB settings of its own, an instance of its own each time. In a
    many-location deployment, the file is the run's location's own."""
    database = duckdb.location_database() if isinstance(duckdb, WarehouseResource) else duckdb.database
    if ":" in database or duckdb.connection_config:
        if database != duckdb.database:
            duckdb = DuckDBResource(database=database, connection_config=duckdb.connection_config)
        return Warehouse(duckdb.get_connection)
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    return Warehouse(functools.partial(attached, database))  # its first connection brings the schema up to date
