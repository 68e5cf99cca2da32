"""The sandbox's admin surface under `/_sandbox/` (outside every API path): reset, faults, limits, statistics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request

from etl_project.sandbox.limits import Faults, SlidingWindowLimiter, Stats


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
        faults.error_rate = float(body.get("error_rate", faults.error_rate))
        faults.latency_ms = int(body.get("latency_ms", faults.latency_ms))
        faults.error_status = int(body.get("error_status", faults.error_status))
        faults.answer_delay_ms = int(body.get("answer_delay_ms", faults.answer_delay_ms))
        faults.answer_delay_path = str(body.get("answer_delay_path", faults.answer_delay_path))
        faults.error_path = str(body.get("error_path", faults.error_path))
        return {
            "error_rate": faults.error_rate,
            "latency_ms": faults.latency_ms,
            "error_status": faults.error_status,
            "answer_delay_ms": faults.answer_delay_ms,
            "answer_delay_path": faults.answer_delay_path,
            "error_path": faults.error_path,
        }

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
