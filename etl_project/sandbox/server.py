"""Serve the sandbox apps over real HTTP on loopback, in a background thread or the foreground (CLI).

Each platform is served on one port; behind it, one app per location (see `location_apps.py`), picked per request by
`dispatch.py`, and for HighLevel the agency's app (OAuth, the agency endpoints, `/_sandbox/locations`).
"""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

import uvicorn

from etl_project.sandbox.config import SandboxConfig
from etl_project.sandbox.dispatch import ALL, Dispatcher, Target, header, query_param
from etl_project.sandbox.highlevel.agency import Agency, AgencySettings
from etl_project.sandbox.highlevel.tokens import COMPANY
from etl_project.sandbox.location_apps import (
    LocationSpec,
    PlatformSandbox,
    build_agency,
    build_highlevel,
    build_sendapp,
    build_sendowl,
    people_slices,
)
from etl_project.sandbox.locations import (
    LocationAccount,
    LocationSettings,
    location_address,
    location_name,
    location_settings,
)
from etl_project.sandbox.sendowl.app import basic_credentials
from etl_project.sandbox.webhooks import HighLevelKeys, HighLevelWebhooks, WebhookSender, WebhookSettings

__all__ = ["DEFAULT_PORTS", "PlatformSandbox", "Sandbox", "SandboxConfig", "SandboxState"]

API_PREFIX = {"sendapp": "/api"}
SandboxState = dict[str, Any]  # every location's records and the agency's credentials (see Sandbox.snapshot)
DEFAULT_PORTS = {"highlevel": 8101, "sendowl": 8102, "sendapp": 8103}  # what the CLI binds unless told otherwise
PLATFORMS = ("highlevel", "sendowl", "sendapp")
AGENCY_ROUTES = ("/oauth/", "/_sandbox/oauth/", "/_sandbox/locations")  # served by the agency's app


class Sandbox:
    """All stand-ins of one session, with their state; `start()` binds the sockets and serves them."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.tenants: dict[str, list[PlatformSandbox]] = {name: [] for name in PLATFORMS}
        self.ports = {name: getattr(config, f"{name}_port") for name in PLATFORMS}
        self._locations: list[LocationSpec] = []
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self._sockets: list[socket.socket] = []
        self._started = False
        cfg = config
        self.highlevel_keys = HighLevelKeys.for_seed(cfg.seed)
        # HighLevel delivers to the Marketplace app's one webhook URL, for every location: one settings object.
        self.highlevel_hooks = WebhookSettings(cfg.highlevel_webhook_url)
        hl = cfg.highlevel
        self.agency = Agency(AgencySettings(client_id=hl.client_id, client_secret=hl.client_secret))
        self._base = LocationSettings(cfg.highlevel, cfg.sendowl, cfg.sendapp)
        for _ in range(max(1, cfg.locations)):
            self.add_location()
        self.company = build_agency(cfg, self.agency, self.add_location, self.location_accounts, self._emit_at)
        self.apps = {
            "highlevel": Dispatcher(self._route_highlevel, "location"),
            "sendowl": Dispatcher(self._route_sendowl, "account"),
            "sendapp": Dispatcher(self._route_sendapp, "account"),
        }

    # -- locations -------------------------------------------------------------------------------------------
    @staticmethod
    def people_slices(count: int) -> dict[str, slice]:
        """Which of a location's people each platform knows (see `location_apps.people_slices`)."""
        return people_slices(count)

    @property
    def platforms(self) -> dict[str, PlatformSandbox]:
        """Location 0's stand-ins: what a single-location test reaches into."""
        return {name: tenants[0] for name, tenants in self.tenants.items()}

    def tenant(self, name: str, location: int | str = 0) -> PlatformSandbox:
        """One platform's stand-in of a location, by index or location id."""
        if isinstance(location, int):
            return self.tenants[name][location]
        return next(t for t in self.tenants[name] if t.location_id == location)

    def add_location(self, contacts: int | None = None, name: str | None = None) -> LocationAccount:
        """Add the next location (installed, active, seeded like the others) with its SendOwl and SendApp accounts;
        while serving, its webhook senders start at once."""
        index = len(self._locations)
        settings = location_settings(index, self._base)
        tenant = LocationSpec(index, settings, contacts if contacts is not None else self.config.contacts)
        self.agency.register(settings.highlevel, name or location_name(index), location_address(index))
        self._locations.append(tenant)
        cfg = self.config
        built = [
            build_highlevel(cfg, tenant, self.agency, self.highlevel_keys, self.highlevel_hooks, self.webhook_keys),
            build_sendowl(cfg, tenant),
            build_sendapp(cfg, tenant),
        ]
        for platform in built:
            self.tenants[platform.name].append(platform)
            if self._started and platform.webhooks is not None:
                platform.webhooks.start()
        return self.location_accounts()[index]

    def location_accounts(self) -> list[LocationAccount]:
        """Every location's credentials, location 0 first."""
        names = {e.location_id: e.name for e in self.agency.directory.values()}
        return [t.settings.account(names[t.settings.highlevel.location_id]) for t in self._locations]

    def _emit_at(self, location_id: str, event_type: str, record: Mapping[str, Any]) -> None:
        hooks = self.tenant("highlevel", location_id).webhooks
        if isinstance(hooks, HighLevelWebhooks):
            hooks.emit(event_type, record)

    # -- routing ---------------------------------------------------------------------------------------------
    def _admin(self, name: str, scope: Any, param: str) -> Target:
        """The app an admin request names with `param` (absent: location 0's; `all`: every location's)."""
        value = query_param(scope, param)
        tenants = self.tenants[name]
        if value is None:
            return tenants[0].app
        if value == ALL:
            return [(t.location_id, t.app) for t in tenants]
        if name == "highlevel" and value == self.agency.settings.company_id:
            return self.company.app
        for t in tenants:
            if value in (
                t.location_id,
                getattr(t.store.settings, "key", None),
                getattr(t.store.settings, "api_key", None),
            ):
                return t.app
        return None

    def _route_highlevel(self, scope: Any) -> Target:
        path = scope["path"]
        if path.startswith(AGENCY_ROUTES):
            return self.company.app
        if path.startswith("/_sandbox/"):
            return self._admin("highlevel", scope, "location")
        auth = header(scope, "authorization")
        grant = self.agency.tokens.grant(auth[7:] if auth.startswith("Bearer ") else "")
        if grant is not None and grant.user_type == COMPANY:
            return self.company.app  # a Company token: the agency's app answers (401 on a location's endpoint)
        owner = grant.owner if grant is not None else None
        return self._pick("highlevel", lambda t: t.location_id == owner)

    def _route_sendowl(self, scope: Any) -> Target:
        if scope["path"].startswith("/_sandbox/"):
            return self._admin("sendowl", scope, "account")
        creds = basic_credentials(header(scope, "authorization"))
        key = creds[0] if creds else None
        return self._pick("sendowl", lambda t: t.store.settings.key == key)

    def _route_sendapp(self, scope: Any) -> Target:
        if scope["path"].startswith("/_sandbox/"):
            return self._admin("sendapp", scope, "account")
        api_key = header(scope, "x-api-key") or query_param(scope, "apikey")
        return self._pick("sendapp", lambda t: t.store.settings.api_key == api_key)

    def _pick(self, name: str, matches: Callable[[PlatformSandbox], bool]) -> Target:
        """The app of the location whose credentials these are, else location 0's (its gate refuses unknown ones)."""
        tenants = self.tenants[name]
        return next((t.app for t in tenants if matches(t)), tenants[0].app)

    # -- state -----------------------------------------------------------------------------------------------
    def webhook_keys(self) -> dict[str, str]:
        """What the receiver verifies HighLevel's deliveries with (`HIGHLEVEL_WEBHOOK_PUBLIC_KEYS`, and the legacy
        `HIGHLEVEL_WEBHOOK_RSA_PUBLIC_KEYS`); SendOwl's are keyed by the account's secret (`SENDOWL_WEBHOOK_SECRET`)."""
        return {
            "public_key": self.highlevel_keys.public_key(),
            "rsa_public_key": self.highlevel_keys.rsa_public_key(),
        }

    def webhooks(self, name: str, location: int | str = 0) -> WebhookSender:
        """A location's webhook sender on a platform (HighLevel and SendOwl send them)."""
        sender = self.tenant(name, location).webhooks
        if sender is None:
            raise KeyError(f"{name} sends no webhooks")
        return sender

    def senders(self) -> list[WebhookSender]:
        """Every location's webhook senders."""
        return [t.webhooks for ts in self.tenants.values() for t in ts if t.webhooks is not None]

    def snapshot(self) -> SandboxState:
        """Every location's records and the agency's locations and credentials as they are now (a deep copy), to
        `restore` into this or another sandbox of the same configuration: tests seed and extract once, then start
        each test from that state."""
        return {
            "records": {
                name: [
                    {f.name: copy.deepcopy(getattr(t.store, f.name)) for f in fields(t.store) if f.name != "settings"}
                    for t in tenants
                ]
                for name, tenants in self.tenants.items()
            },
            "contacts": [t.contacts for t in self._locations],
            "agency": self.agency.state(),
        }

    def restore(self, state: SandboxState) -> None:
        """Put back the records of a `snapshot` (in place: the served apps keep their store objects), adding the
        locations it has that this sandbox lacks, and clear the request counters; the fault knobs and rate limits
        stay as they are."""
        for contacts in state["contacts"][len(self._locations) :]:
            self.add_location(contacts)
        if len(self._locations) > len(state["contacts"]):
            raise ValueError("the snapshot has fewer locations than this sandbox")
        for name, saved in state["records"].items():
            for platform, records in zip(self.tenants[name], saved, strict=True):
                for attr, value in records.items():
                    setattr(platform.store, attr, copy.deepcopy(value))
                platform.stats.reset()
        self.agency.load(state["agency"])
        self.company.stats.reset()

    # -- serving ---------------------------------------------------------------------------------------------
    def base_url(self, name: str) -> str:
        """The server's root (the admin surface lives under /_sandbox/ there)."""
        return f"http://{self.config.host}:{self.ports[name]}"

    def api_url(self, name: str) -> str:
        """What a client uses as its base URL (SendApp's API lives under the account domain's /api)."""
        return self.base_url(name) + API_PREFIX.get(name, "")

    def _bind(self, port: int) -> socket.socket:
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP,
        # and without it every keep-alive response waits ~40 ms for a delayed ACK (Nagle).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.config.host, port))
        sock.listen(2048)
        sock.setblocking(False)
        return sock

    def start(self) -> Sandbox:
        """Bind every port now (so the URLs are known) and serve in a daemon thread."""
        for name, app in self.apps.items():
            sock = self._bind(self.ports[name])
            self.ports[name] = sock.getsockname()[1]
            self._sockets.append(sock)
            config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
            self._servers.append(uvicorn.Server(config))

        async def serve_all() -> None:
            await asyncio.gather(*(s.serve(sockets=[k]) for s, k in zip(self._servers, self._sockets, strict=True)))

        for sender in self.senders():
            sender.start()
        self._started = True
        self._thread = threading.Thread(target=lambda: asyncio.run(serve_all()), name="sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 120  # a hang guard: a busy machine starts servers slowly
        while not all(s.started for s in self._servers):
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("sandbox servers did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        for sock in self._sockets:
            sock.close()
        for sender in self.senders():
            sender.stop()
        self._started = False

    def wait(self) -> None:
        """Block until the servers stop (Ctrl-C in the CLI)."""
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
