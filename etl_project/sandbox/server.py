"""Serve the sandbox apps over real HTTP on loopback, in a background thread or the foreground (CLI)."""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
import time
from dataclasses import dataclass, field, fields
from typing import Any

import uvicorn
from fastapi import FastAPI

from etl_project.sandbox.admin import register_admin
from etl_project.sandbox.faults import FaultInjector
from etl_project.sandbox.highlevel.app import create_app as create_highlevel_app
from etl_project.sandbox.highlevel.store import HighLevelSettings, HighLevelStore
from etl_project.sandbox.limits import Faults, RateLimitSettings, SlidingWindowLimiter, Stats
from etl_project.sandbox.people import make_people
from etl_project.sandbox.sendapp.app import create_app as create_sendapp_app
from etl_project.sandbox.sendapp.store import SendAppSettings, SendAppStore
from etl_project.sandbox.sendowl.app import create_app as create_sendowl_app
from etl_project.sandbox.sendowl.app import rate_limit_settings as sendowl_rate_limit_settings
from etl_project.sandbox.sendowl.store import SendOwlSettings, SendOwlStore
from etl_project.sandbox.webhooks import (
    HighLevelKeys,
    HighLevelWebhooks,
    SendOwlWebhooks,
    WebhookSender,
    WebhookSettings,
    register_webhook_admin,
)

API_PREFIX = {"sendapp": "/api"}
SandboxState = dict[str, dict[str, Any]]  # platform -> store attribute -> value (see Sandbox.snapshot)
DEFAULT_PORTS = {"highlevel": 8101, "sendowl": 8102, "sendapp": 8103}  # what the CLI binds unless told otherwise


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    highlevel_port: int = 0  # 0: any free port
    contacts: int = 300
    seed: int = 42
    rate_limits: str = "real"  # real | off
    error_rate: float = 0.0
    latency_ms: int = 0
    sendowl_port: int = 0
    sendapp_port: int = 0
    highlevel: HighLevelSettings = field(default_factory=HighLevelSettings)
    sendowl: SendOwlSettings = field(default_factory=SendOwlSettings)
    sendapp: SendAppSettings = field(default_factory=SendAppSettings)
    # Where HighLevel's and SendOwl's stand-ins deliver their signed webhooks (empty: none are sent); also
    # settable while running through `POST /_sandbox/webhooks`.
    highlevel_webhook_url: str = ""
    sendowl_webhook_url: str = ""


@dataclass
class PlatformSandbox:
    name: str
    app: FastAPI
    port: int
    limiter: SlidingWindowLimiter
    faults: Faults
    stats: Stats
    store: Any
    webhooks: WebhookSender | None = None


class Sandbox:
    """All stand-ins of one session, with their state; `start()` binds the sockets and serves them."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.platforms: dict[str, PlatformSandbox] = {}
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self._sockets: list[socket.socket] = []
        self._build_highlevel()
        self._build_sendowl()
        self._build_sendapp()

    @staticmethod
    def people_slices(count: int) -> dict[str, slice]:
        """Which people each platform knows, so they overlap like real accounts: most SendApp and SendOwl people
        are also in HighLevel, some are only in one platform."""
        return {
            "highlevel": slice(0, count),
            "sendowl": slice(int(count * 0.4), int(count * 1.1)),
            "sendapp": slice(int(count * 0.6), int(count * 1.2)),
        }

    def _people(self, name: str, count: int, seed: int) -> list[Any]:
        part = self.people_slices(count)[name]
        return make_people(seed, part.stop)[part]

    def _build_highlevel(self) -> None:
        cfg = self.config
        store = HighLevelStore(cfg.highlevel)
        limiter = SlidingWindowLimiter(RateLimitSettings(enabled=cfg.rate_limits == "real"))
        faults = Faults(error_rate=cfg.error_rate, latency_ms=cfg.latency_ms)
        stats = Stats()

        def reset(contacts: int | None, seed: int | None) -> None:
            n, s = contacts if contacts is not None else cfg.contacts, seed if seed is not None else cfg.seed
            store.seed(self._people("highlevel", n, s), n, s)

        reset(None, None)
        app = create_highlevel_app(store, limiter, faults, stats)
        self.highlevel_keys = HighLevelKeys.for_seed(cfg.seed)
        hooks = HighLevelWebhooks(
            self.highlevel_keys, cfg.highlevel.location_id, WebhookSettings(cfg.highlevel_webhook_url), faults, stats
        )
        app.state.webhooks = hooks
        register_webhook_admin(app, hooks, self.webhook_keys)

        def counts() -> dict[str, int]:
            return {
                "contacts": len(store.contacts),
                "tasks": sum(len(v) for v in store.tasks.values()),
                "notes": sum(len(v) for v in store.notes.values()),
                "appointments": sum(len(v) for v in store.appointments.values()),
            }

        register_admin(app, reset, limiter, faults, stats, counts)
        app.add_middleware(FaultInjector, faults=faults, stats=stats)  # outermost: outside auth and limits
        self.platforms["highlevel"] = PlatformSandbox(
            "highlevel", app, cfg.highlevel_port, limiter, faults, stats, store, hooks
        )

    def _build_sendowl(self) -> None:
        cfg = self.config
        store = SendOwlStore(cfg.sendowl)
        limiter = SlidingWindowLimiter(sendowl_rate_limit_settings(enabled=cfg.rate_limits == "real"))
        faults = Faults(error_rate=cfg.error_rate, latency_ms=cfg.latency_ms)
        stats = Stats(rate_limit_status=403)  # SendOwl blocks fast callers with 403, not 429

        def reset(contacts: int | None, seed: int | None) -> None:
            n, s = contacts if contacts is not None else cfg.contacts, seed if seed is not None else cfg.seed
            store.seed(self._people("sendowl", n, s), s)

        reset(None, None)
        app = create_sendowl_app(store, limiter, faults, stats)
        hooks = SendOwlWebhooks(cfg.sendowl.secret, WebhookSettings(cfg.sendowl_webhook_url), faults, stats)
        app.state.webhooks = hooks
        register_webhook_admin(app, hooks, lambda: {"secret_env": "SENDOWL_WEBHOOK_SECRET"})

        def counts() -> dict[str, int]:
            return {"orders": len(store.orders), "products": len(store.products)}

        register_admin(app, reset, limiter, faults, stats, counts)
        app.add_middleware(FaultInjector, faults=faults, stats=stats)  # outermost: outside auth and limits
        self.platforms["sendowl"] = PlatformSandbox(
            "sendowl", app, cfg.sendowl_port, limiter, faults, stats, store, hooks
        )

    def _build_sendapp(self) -> None:
        cfg = self.config
        store = SendAppStore(cfg.sendapp)
        per_minute = RateLimitSettings(
            enabled=cfg.rate_limits == "real",
            burst_max=cfg.sendapp.requests_per_minute,
            interval_ms=60_000,
            daily_limit=10**9,
        )
        limiter = SlidingWindowLimiter(per_minute)
        faults = Faults(error_rate=cfg.error_rate, latency_ms=cfg.latency_ms)
        stats = Stats()

        def reset(contacts: int | None, seed: int | None) -> None:
            n, s = contacts if contacts is not None else cfg.contacts, seed if seed is not None else cfg.seed
            store.seed(self._people("sendapp", n, s), s)

        reset(None, None)
        app = create_sendapp_app(store, limiter, faults, stats)

        def counts() -> dict[str, int]:
            return {
                "contacts": len(store.contacts),
                "tasks": sum(len(v) for v in store.tasks.values()),
                "notes": sum(len(v) for v in store.notes.values()),
                "messages": len(store.messages),
            }

        register_admin(app, reset, limiter, faults, stats, counts)
        app.add_middleware(FaultInjector, faults=faults, stats=stats)  # outermost: outside auth and limits
        self.platforms["sendapp"] = PlatformSandbox("sendapp", app, cfg.sendapp_port, limiter, faults, stats, store)

    def webhook_keys(self) -> dict[str, str]:
        """What the receiver verifies HighLevel's deliveries with (`HIGHLEVEL_WEBHOOK_PUBLIC_KEYS`, and the legacy
        `HIGHLEVEL_WEBHOOK_RSA_PUBLIC_KEYS`); SendOwl's are keyed by the account's secret (`SENDOWL_WEBHOOK_SECRET`)."""
        return {
            "public_key": self.highlevel_keys.public_key(),
            "rsa_public_key": self.highlevel_keys.rsa_public_key(),
        }

    def webhooks(self, name: str) -> WebhookSender:
        """A platform's webhook sender (HighLevel and SendOwl send them)."""
        sender = self.platforms[name].webhooks
        if sender is None:
            raise KeyError(f"{name} sends no webhooks")
        return sender

    def snapshot(self) -> SandboxState:
        """Every platform's records as they are now (a deep copy), to `restore` into this or another sandbox of the
        same configuration: tests seed and extract once, then start each test from that state."""
        return {
            name: {f.name: copy.deepcopy(getattr(p.store, f.name)) for f in fields(p.store) if f.name != "settings"}
            for name, p in self.platforms.items()
        }

    def restore(self, state: SandboxState) -> None:
        """Put back the records of a `snapshot` (in place: the served apps keep their store objects) and clear the
        request counters; the fault knobs and rate limits stay as they are."""
        for name, saved in state.items():
            platform = self.platforms[name]
            for attr, value in saved.items():
                setattr(platform.store, attr, copy.deepcopy(value))
            platform.stats.reset()

    def base_url(self, name: str) -> str:
        """The server's root (the admin surface lives under /_sandbox/ there)."""
        return f"http://{self.config.host}:{self.platforms[name].port}"

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
        for platform in self.platforms.values():
            sock = self._bind(platform.port)
            platform.port = sock.getsockname()[1]
            self._sockets.append(sock)
            config = uvicorn.Config(platform.app, log_level="warning", access_log=False, lifespan="off")
            self._servers.append(uvicorn.Server(config))

        async def serve_all() -> None:
            await asyncio.gather(*(s.serve(sockets=[k]) for s, k in zip(self._servers, self._sockets, strict=True)))

        for platform in self.platforms.values():
            if platform.webhooks is not None:
                platform.webhooks.start()
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
        for platform in self.platforms.values():
            if platform.webhooks is not None:
                platform.webhooks.stop()

    def wait(self) -> None:
        """Block until the servers stop (Ctrl-C in the CLI)."""
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
