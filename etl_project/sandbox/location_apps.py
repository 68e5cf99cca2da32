"""Build one location's stand-in of each platform (its own store, rate limiter, faults, statistics, webhooks and
admin surface), and the agency's app. `server.py` serves them behind one dispatcher per platform."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from etl_project.sandbox.admin import register_admin
from etl_project.sandbox.config import SandboxConfig
from etl_project.sandbox.faults import FaultInjector
from etl_project.sandbox.highlevel import admin_agency, routes_agency
from etl_project.sandbox.highlevel.agency import Agency, create_agency_app
from etl_project.sandbox.highlevel.app import create_app as create_highlevel_app
from etl_project.sandbox.highlevel.store import HighLevelStore
from etl_project.sandbox.limits import Faults, RateLimitSettings, SlidingWindowLimiter, Stats
from etl_project.sandbox.locations import LocationSettings, location_people, location_seed
from etl_project.sandbox.people import Person
from etl_project.sandbox.sendapp.app import create_app as create_sendapp_app
from etl_project.sandbox.sendapp.store import SendAppStore
from etl_project.sandbox.sendowl.app import create_app as create_sendowl_app
from etl_project.sandbox.sendowl.app import rate_limit_settings as sendowl_rate_limit_settings
from etl_project.sandbox.sendowl.store import SendOwlStore
from etl_project.sandbox.webhooks import (
    HighLevelKeys,
    HighLevelWebhooks,
    SendOwlWebhooks,
    WebhookSender,
    WebhookSettings,
    register_webhook_admin,
)


@dataclass
class PlatformSandbox:
    """One platform's stand-in for one location (or the agency's app): what tests reach into directly."""

    name: str
    app: FastAPI
    limiter: SlidingWindowLimiter
    faults: Faults
    stats: Stats
    store: Any
    webhooks: WebhookSender | None = None
    location_id: str = ""


@dataclass
class LocationSpec:
    """Location `index` of the sandbox: its settings on each platform and how many contacts it is seeded with."""

    index: int
    settings: LocationSettings
    contacts: int


def people_slices(count: int) -> dict[str, slice]:
    """Which of a location's people each platform knows, so they overlap like real accounts: most SendApp and
    SendOwl people are also in HighLevel, some are only in one platform."""
    return {
        "highlevel": slice(0, count),
        "sendowl": slice(int(count * 0.4), int(count * 1.1)),
        "sendapp": slice(int(count * 0.6), int(count * 1.2)),
    }


def platform_people(name: str, count: int, seed: int, index: int) -> list[Person]:
    part = people_slices(count)[name]
    return location_people(seed, part.stop, index)[part]


Reset = Callable[[int | None, int | None], None]


def _reset(cfg: SandboxConfig, tenant: LocationSpec, seed_store: Callable[[int, int, int], None]) -> Reset:
    """`POST /_sandbox/reset` of this location: `contacts` and `seed` as given (else the configured ones), the
    location's own share of people and its own seed derived from the sandbox's."""

    def reset(contacts: int | None, seed: int | None) -> None:
        n = contacts if contacts is not None else tenant.contacts
        seed_store(n, seed if seed is not None else cfg.seed, tenant.index)

    return reset


def _finish(
    app: FastAPI, reset: Reset, limiter: SlidingWindowLimiter, faults: Faults, stats: Stats, counts: Any
) -> None:
    register_admin(app, reset, limiter, faults, stats, counts)
    app.add_middleware(FaultInjector, faults=faults, stats=stats)  # outermost: outside auth and limits


def build_highlevel(
    cfg: SandboxConfig,
    tenant: LocationSpec,
    agency: Agency,
    keys: HighLevelKeys,
    hook_settings: WebhookSettings,
    public_keys: Callable[[], Mapping[str, str]],
) -> PlatformSandbox:
    settings = tenant.settings.highlevel
    store = HighLevelStore(settings)
    limiter = SlidingWindowLimiter(RateLimitSettings(enabled=cfg.limits_on))
    faults = Faults(error_rate=cfg.error_rate, latency_ms=cfg.latency_ms)
    stats = Stats()

    def seed_store(n: int, s: int, index: int) -> None:
        store.seed(platform_people("highlevel", n, s, index), n, location_seed(s, index))

    reset = _reset(cfg, tenant, seed_store)
    reset(None, None)
    app = create_highlevel_app(store, limiter, faults, stats, agency.location_auth(settings.location_id))
    hooks = HighLevelWebhooks(keys, settings.location_id, hook_settings, faults, stats)
    app.state.webhooks = hooks
    register_webhook_admin(app, hooks, public_keys)

    def counts() -> dict[str, int]:
        return {
            "contacts": len(store.contacts),
            "tasks": sum(len(v) for v in store.tasks.values()),
            "notes": sum(len(v) for v in store.notes.values()),
            "appointments": sum(len(v) for v in store.appointments.values()),
        }

    _finish(app, reset, limiter, faults, stats, counts)
    return PlatformSandbox("highlevel", app, limiter, faults, stats, store, hooks, settings.location_id)


def shop_webhook_url(cfg: SandboxConfig, tenant: LocationSpec) -> str:
    """Where a location's SendOwl shop delivers (see `SandboxConfig.sendowl_webhook_url`)."""
    template = cfg.sendowl_webhook_url
    if "{location_id}" in template:
        return template.replace("{location_id}", tenant.settings.highlevel.location_id)
    return template if tenant.index == 0 else ""


def build_sendowl(cfg: SandboxConfig, tenant: LocationSpec) -> PlatformSandbox:
    settings = tenant.settings.sendowl
    hook_url = shop_webhook_url(cfg, tenant)
    store = SendOwlStore(settings)
    limiter = SlidingWindowLimiter(sendowl_rate_limit_settings(enabled=cfg.limits_on))
    faults = Faults(error_rate=cfg.error_rate, latency_ms=cfg.latency_ms)
    stats = Stats(rate_limit_status=403)  # SendOwl blocks fast callers with 403, not 429

    def seed_store(n: int, s: int, index: int) -> None:
        store.seed(platform_people("sendowl", n, s, index), location_seed(s, index))

    reset = _reset(cfg, tenant, seed_store)
    reset(None, None)
    app = create_sendowl_app(store, limiter, faults, stats)
    hooks = SendOwlWebhooks(settings.secret, WebhookSettings(hook_url), faults, stats)
    app.state.webhooks = hooks
    register_webhook_admin(app, hooks, lambda: {"secret_env": "SENDOWL_WEBHOOK_SECRET"})

    def counts() -> dict[str, int]:
        return {"orders": len(store.orders), "products": len(store.products)}

    _finish(app, reset, limiter, faults, stats, counts)
    location_id = tenant.settings.highlevel.location_id
    return PlatformSandbox("sendowl", app, limiter, faults, stats, store, hooks, location_id)


def build_sendapp(cfg: SandboxConfig, tenant: LocationSpec) -> PlatformSandbox:
    settings = tenant.settings.sendapp
    store = SendAppStore(settings)
    per_minute = RateLimitSettings(
        enabled=cfg.limits_on, burst_max=settings.requests_per_minute, interval_ms=60_000, daily_limit=10**9
    )
    limiter = SlidingWindowLimiter(per_minute)
    faults = Faults(error_rate=cfg.error_rate, latency_ms=cfg.latency_ms)
    stats = Stats()

    def seed_store(n: int, s: int, index: int) -> None:
        store.seed(platform_people("sendapp", n, s, index), location_seed(s, index))

    reset = _reset(cfg, tenant, seed_store)
    reset(None, None)
    app = create_sendapp_app(store, limiter, faults, stats)

    def counts() -> dict[str, int]:
        return {
            "contacts": len(store.contacts),
            "tasks": sum(len(v) for v in store.tasks.values()),
            "notes": sum(len(v) for v in store.notes.values()),
            "messages": len(store.messages),
        }

    _finish(app, reset, limiter, faults, stats, counts)
    return PlatformSandbox("sendapp", app, limiter, faults, stats, store, None, tenant.settings.highlevel.location_id)


def build_agency(
    cfg: SandboxConfig,
    agency: Agency,
    add_location: admin_agency.AddLocation,
    accounts: admin_agency.Accounts,
    emit: admin_agency.EmitAt,
) -> PlatformSandbox:
    """The company-level app: OAuth, the agency endpoints on the company's own rate budget, the agency's admin."""
    limiter = SlidingWindowLimiter(RateLimitSettings(enabled=cfg.limits_on))
    faults = Faults(error_rate=cfg.error_rate, latency_ms=cfg.latency_ms)
    stats = Stats()
    app = create_agency_app(agency, limiter, faults, stats)
    routes_agency.register(app, agency)
    admin_agency.register(app, agency, add_location, accounts, emit)

    def counts() -> dict[str, int]:
        return {
            "locations": len(agency.directory),
            "installed": sum(e.installed for e in agency.directory.values()),
            "active": sum(e.active for e in agency.directory.values()),
        }

    # Its reset only clears the company's rate budget and counters: the agency holds no seeded records.
    _finish(app, lambda contacts, seed: None, limiter, faults, stats, counts)
    return PlatformSandbox("highlevel", app, limiter, faults, stats, agency, None, agency.settings.company_id)
