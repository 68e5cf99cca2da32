"""The sandbox's admin surface under `/_sandbox/` (outside every API path): reset, faults, limits, statistics."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from fastapi import FastAPI, Request

from etl_project.sandbox.limits import Faults, SlidingWindowLimiter, Stats

# What `POST /_sandbox/faults` may set (each keeps its type; see `Faults` for what each does).
FAULT_KNOBS = tuple(f.name for f in fields(Faults) if f.name not in ("rng", "storm_until"))


def register_admin(
    app: FastAPI,
    reset: Callable[[int | None, int | None], None],
    limiter: SlidingWindowLimiter,
    faults: Faults,
    stats: Stats,
    counts: Callable[[], dict[str, int]],
) -> None:
    @app.get("/_sandbox/health")
    async def health() -> Any:
        return {"ok": True, "counts": counts()}

    @app.get("/_sandbox/stats")
    async def get_stats() -> Any:
        return {**stats.as_dict(), "counts": counts()}

    @app.post("/_sandbox/stats/reset")
    async def reset_stats() -> Any:
        stats.reset()
        return {"ok": True}

    @app.post("/_sandbox/reset")
    async def reset_all(request: Request) -> Any:
        body = await _json(request)
        reset(body.get("contacts"), body.get("seed"))
        limiter.reset()
        stats.reset()
        return {"ok": True, "counts": counts()}

    @app.post("/_sandbox/faults")
    async def set_faults(request: Request) -> Any:
        body = await _json(request)
        for name in FAULT_KNOBS:
            if name in body:
                setattr(faults, name, type(getattr(faults, name))(body[name]))
        if "rate_limit_storm" in body or "storm_seconds" in body:
            faults.start_storm(time.monotonic())
        return {name: getattr(faults, name) for name in FAULT_KNOBS}

    @app.post("/_sandbox/rate-limits")
    async def set_limits(request: Request) -> Any:
        body = await _json(request)
        s = limiter.settings
        for key in ("enabled", "burst_max", "interval_ms", "daily_limit"):
            if key in body:
                setattr(s, key, type(getattr(s, key))(body[key]))
        limiter.reset()
        return vars(s)


async def _json(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body:
        return {}
    data = await request.json()
    return data if isinstance(data, dict) else {}
