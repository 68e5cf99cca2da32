"""Rate limiting, fault injection and request statistics shared by the sandbox apps."""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class RateLimitSettings:
    enabled: bool = True
    burst_max: int = 100
    interval_ms: int = 10_000
    daily_limit: int = 200_000


@dataclass
class Decision:
    allowed: bool
    headers: dict[str, str]
    daily_exhausted: bool = False


class SlidingWindowLimiter:
    """Per-key sliding log: at most `burst_max` accepted requests in any `interval_ms`, and a daily quota."""

    def __init__(self, settings: RateLimitSettings) -> None:
        self.settings = settings
        self._log: dict[str, deque[float]] = {}
        self._daily: Counter[tuple[str, str]] = Counter()

    def check(self, key: str, now: float | None = None) -> Decision:
        s = self.settings
        now = time.monotonic() if now is None else now
        day = datetime.now(UTC).date().isoformat()
        if not s.enabled:
            # Limits off: still send the headers (clients read them), announcing a budget nobody reaches.
            self._daily[(key, day)] += 1
            unlimited = "1000000000"
            return Decision(
                True,
                {
                    "X-RateLimit-Limit-Daily": unlimited,
                    "X-RateLimit-Daily-Remaining": unlimited,
                    "X-RateLimit-Interval-Milliseconds": str(s.interval_ms),
                    "X-RateLimit-Max": unlimited,
                    "X-RateLimit-Remaining": unlimited,
                },
            )
        log = self._log.setdefault(key, deque())
        while log and log[0] <= now - s.interval_ms / 1000:
            log.popleft()
        used_today = self._daily[(key, day)]
        daily_ok = used_today < s.daily_limit
        burst_ok = len(log) < s.burst_max
        allowed = daily_ok and burst_ok
        if allowed:
            log.append(now)
            self._daily[(key, day)] += 1
            used_today += 1
        headers = {
            "X-RateLimit-Limit-Daily": str(s.daily_limit),
            "X-RateLimit-Daily-Remaining": str(max(0, s.daily_limit - used_today)),
            "X-RateLimit-Interval-Milliseconds": str(s.interval_ms),
            "X-RateLimit-Max": str(s.burst_max),
            "X-RateLimit-Remaining": str(max(0, s.burst_max - len(log))),
        }
        return Decision(allowed, headers, daily_exhausted=not daily_ok)

    def oldest(self, key: str) -> float:
        """When the oldest request still inside `key`'s window was accepted (monotonic seconds)."""
        log = self._log.get(key)
        return log[0] if log else time.monotonic()

    def reset(self) -> None:
        self._log.clear()
        self._daily.clear()


@dataclass
class Faults:
    """Injected misbehaviour, every knob off by default. Before the platform processes a request: a share answered
    with `error_status` (paths starting with `error_path`), added latency, a 429 storm (`rate_limit_storm`, with
    `Retry-After: storm_retry_after` when that is set, for `storm_seconds` when that is set), and with
    `reset_after_apply` off a connection closed without an answer. After it applied the request: a write answered
    with `error_status` anyway (`apply_then_error_rate`, paths starting with `apply_then_error_path`), a 200 whose
    JSON body is cut short (`truncate_rate`) or replaced by HTML (`non_json_rate`), and with `reset_after_apply`
    on the connection closed mid-answer. The storm, truncation, HTML and reset knobs apply to paths starting with
    `fault_path`. `answer_delay_ms` (SendApp) applies a write (to paths starting with `answer_delay_path`) and then
    holds its answer back, like a platform that commits and answers late. The `webhook_*` knobs act on the
    stand-in's outgoing webhooks (`sandbox/webhooks.py`): a share delivered twice, a share never sent, each delayed,
    and reordering (held for a short window, sent newest first)."""

    error_rate: float = 0.0
    latency_ms: int = 0
    answer_delay_ms: int = 0
    answer_delay_path: str = ""
    error_path: str = ""
    error_status: int = 503
    apply_then_error_rate: float = 0.0
    apply_then_error_path: str = ""
    truncate_rate: float = 0.0
    non_json_rate: float = 0.0
    reset_rate: float = 0.0
    reset_after_apply: bool = False
    rate_limit_storm: float = 0.0
    storm_retry_after: int = 0  # seconds announced in Retry-After; 0: no header
    storm_seconds: float = 0.0  # > 0: the storm ends this long after it was set
    fault_path: str = ""
    webhook_duplicate_rate: float = 0.0
    webhook_drop_rate: float = 0.0
    webhook_delay_ms: int = 0
    webhook_reorder: bool = False
    storm_until: float | None = None  # set from storm_seconds by `start_storm`
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def should_fail(self, path: str) -> bool:
        return self.error_rate > 0 and path.startswith(self.error_path) and self.rng.random() < self.error_rate

    def hit(self, rate: float, prefix: str, path: str) -> bool:
        """Does a fault injected at `rate` to paths starting with `prefix` strike this request?"""
        return rate > 0 and path.startswith(prefix) and self.rng.random() < rate

    def start_storm(self, now: float) -> None:
        self.storm_until = now + self.storm_seconds if self.storm_seconds > 0 else None

    def storming(self, path: str, now: float) -> bool:
        if self.storm_until is not None and now >= self.storm_until:
            return False
        return self.hit(self.rate_limit_storm, self.fault_path, path)


@dataclass
class Stats:
    """Counts of what the sandbox answered, for tests and benchmarks (GET /_sandbox/stats)."""

    total: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_route: Counter[str] = field(default_factory=Counter)
    writes: int = 0  # writes the platform accepted
    write_requests: int = 0  # every write attempt, whatever the answer
    rate_limit_status: int = 429  # how this platform says "too fast" (SendOwl: 403)
    injected: Counter[str] = field(default_factory=Counter)  # answers the fault knobs changed, by kind
    deliveries: Counter[str] = field(default_factory=Counter)  # outgoing webhooks: sent, retried, dropped, status_<n>

    def record(self, method: str, path: str, status: int, is_write: bool) -> None:
        self.total += 1
        self.by_status[status] += 1
        self.by_route[f"{method} {path}"] += 1
        self.write_requests += is_write
        if is_write and status < 400:
            self.writes += 1

    def reset(self) -> None:
        self.total, self.writes, self.write_requests = 0, 0, 0
        self.by_status.clear()
        self.by_route.clear()
        self.injected.clear()
        self.deliveries.clear()

    def as_dict(self) -> dict[str, object]:
        return {
            "total": self.total,
            "writes": self.writes,
            "write_requests": self.write_requests,
            "rate_limited": self.by_status.get(self.rate_limit_status, 0),
            "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            "by_route": dict(self.by_route.most_common()),
            "injected": dict(self.injected),
            "webhooks": dict(self.deliveries),
        }
