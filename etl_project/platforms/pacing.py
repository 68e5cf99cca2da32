"""Client-side pacing, so a client never triggers a rate limit on its own.

Two strategies, chosen per platform:
- `WindowPacer` mirrors a sliding-window limit the platform announces in response headers (HighLevel);
- `IntervalPacer` keeps a minimum gap between requests (SendOwl's "no more than once per second").

Both are thread-safe and measure time with `time.monotonic`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx


@dataclass(frozen=True)
class RateLimitSnapshot:
    """What the last response said about the remaining budget (None where a header was absent)."""

    burst_max: int | None = None
    burst_remaining: int | None = None
    interval_ms: int | None = None
    daily_limit: int | None = None
    daily_remaining: int | None = None


class Pacer:
    """No pacing at all; the base of the strategies below."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    def before_request(self) -> None:
        wait = self._reserve()
        if wait > 0:
            self.waited_seconds += wait
            self._sleep(wait)

    def after_response(self, response: httpx.Response | None) -> None:
        """Record that a request finished (response is None after a transport error)."""

    def _reserve(self) -> float:
        return 0.0


class IntervalPacer(Pacer):
    """At most one request per `min_interval` seconds, measured from the previous request's end."""

    def __init__(
        self,
        min_interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(clock, sleep)
        self.min_interval = min_interval
        self._next_at = 0.0

    def _reserve(self) -> float:
        with self._lock:
            now = self._clock()
            start = max(now, self._next_at)
            # Hold the slot even before the response arrives, so concurrent threads queue up behind it.
            self._next_at = start + self.min_interval
            return start - now

    def after_response(self, response: httpx.Response | None) -> None:
        with self._lock:
            # Measured from when the answer arrived: the server saw the request no later than that.
            self._next_at = max(self._next_at, self._clock() + self.min_interval)


class WindowPacer(Pacer):
    """Mirror of a sliding-window limit (`max_requests` per `interval` seconds).

    Each request's slot is released `interval` seconds after its *response* arrived: the server received the
    request no later than that, so a request sent after the slot frees can never land inside the old window,
    whatever the network latency. The limits are learned from the rate-limit headers; `safety` slots are kept
    free for other clients of the same budget. When the server reports fewer remaining slots than we think we
    have (someone else is using the budget), we trust the server and wait for a full interval.
    """

    def __init__(
        self,
        max_requests: int = 100,
        interval: float = 10.0,
        safety: int = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(clock, sleep)
        self.max_requests = max_requests
        self.interval = interval
        self.safety = safety
        self._done: deque[float] = deque()  # response times of requests still inside the window
        self._in_flight = 0
        self._server_says_empty_until = 0.0
        self.last = RateLimitSnapshot()

    def _capacity(self) -> int:
        return max(1, self.max_requests - self.safety)

    def _reserve(self) -> float:
        with self._lock:
            now = self._clock()
            while self._done and self._done[0] + self.interval <= now:
                self._done.popleft()
            wait = max(0.0, self._server_says_empty_until - now)
            used = len(self._done) + self._in_flight
            if used >= self._capacity() and self._done:
                # The (used - capacity + 1)-th oldest finished request must leave the window first.
                idx = min(len(self._done) - 1, used - self._capacity())
                wait = max(wait, self._done[idx] + self.interval - now)
            self._in_flight += 1
            return wait

    def after_response(self, response: httpx.Response | None) -> None:
        with self._lock:
            now = self._clock()
            self._in_flight = max(0, self._in_flight - 1)
            self._done.append(now)
            if response is None:
                return
            snap = parse_rate_headers(response.headers)
            self.last = snap
            if snap.burst_max:
                self.max_requests = snap.burst_max
            if snap.interval_ms:
                self.interval = snap.interval_ms / 1000.0
            if snap.burst_remaining is not None and snap.burst_remaining <= self.safety:
                local_remaining = self._capacity() - len(self._done) - self._in_flight
                if local_remaining > snap.burst_remaining:
                    # Another client shares this budget: our own log under-counts, so sit out one window.
                    self._server_says_empty_until = now + self.interval


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse_rate_headers(headers: httpx.Headers) -> RateLimitSnapshot:
    """Read HighLevel's five `X-RateLimit-*` headers."""
    return RateLimitSnapshot(
        burst_max=_int_header(headers, "X-RateLimit-Max"),
        burst_remaining=_int_header(headers, "X-RateLimit-Remaining"),
        interval_ms=_int_header(headers, "X-RateLimit-Interval-Milliseconds"),
        daily_limit=_int_header(headers, "X-RateLimit-Limit-Daily"),
        daily_remaining=_int_header(headers, "X-RateLimit-Daily-Remaining"),
    )


P = TypeVar("P", bound=Pacer)
_shared: dict[str, Pacer] = {}
_shared_lock = threading.Lock()


def shared_pacer(key: str, factory: Callable[[], P]) -> P:
    """One pacer per rate budget (platform + account) in this process.

    A rate limit belongs to the account, not to a client object: assets that run one after another in the same
    run each open a client, and a fresh pacer would not know the requests its predecessor just made (SendOwl
    blocks a caller for a second request within the same second; HighLevel answers 429).
    """
    with _shared_lock:
        pacer = _shared.get(key)
        if pacer is None:
            pacer = _shared[key] = factory()
        return pacer  # type: ignore[return-value]


def budget_key(*parts: str) -> str:
    """A registry key for a budget; credentials are hashed, never kept in clear."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()
