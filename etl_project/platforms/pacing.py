"""Client-side pacing, so a client never triggers a rate limit on its own.

Two strategies, chosen per platform:
- `WindowPacer` mirrors a sliding-window limit the platform announces in response headers (HighLevel);
- `IntervalPacer` keeps a minimum gap between requests (SendOwl's "no more than once per second", SendApp).

A pacer keeps its budget in a `Ledger`: by default in this process (thread-safe, `time.monotonic`); with a
`FileLedger` in a file every process on the machine shares (`time.time`, since monotonic clocks differ between
processes), so runs launched together still spend one budget. A request holds an in-flight slot from the moment
it may go until its answer arrives; a slot whose process died, or that outlived `IN_FLIGHT_LEASE` seconds, is
reclaimed, so a killed run never stalls the others.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

from etl_project.platforms.ledger import FileLedger, Ledger, MemoryLedger, State, pid_alive

# A request that has not reached the server a minute after it was let go never will (connect timeouts are shorter);
# past that, its slot can only belong to a lost request, and freeing it can no longer crowd the server.
IN_FLIGHT_LEASE = 60.0
POLL = 0.05  # how often a pacer looks again while another process's request is still unanswered
UNBOUNDED = 10_000  # a window allowing more requests than this is no limit (the sandbox with its limits off)


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

    def __init__(
        self,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        ledger: Ledger | None = None,
    ) -> None:
        self.ledger: Ledger = ledger or MemoryLedger()
        self._clock = clock or (time.time if self.ledger.shared else time.monotonic)
        self._sleep = sleep
        self._open: dict[int, str] = {}  # thread id -> that thread's in-flight slot in the ledger
        self._ids = itertools.count()
        self.waited_seconds = 0.0

    def before_request(self) -> None:
        """Return when a request may go, its slot taken (look again after each wait: others may have moved)."""
        while (wait := self._reserve()) > 0:
            self.waited_seconds += wait
            self._sleep(wait)

    def after_response(self, response: httpx.Response | None) -> None:
        """Record that a request finished (response is None after a transport error)."""

    def _reserve(self) -> float:
        """Take a slot and return 0, or return how long to wait before asking again."""
        return 0.0

    def _finish(self, state: State, now: float) -> None:
        """Free this thread's slot and record its request as done."""

    # In-flight slots: one per request between `before_request` and `after_response`.
    def _take_slot(self, state: State, now: float) -> None:
        slot = f"{os.getpid()}-{id(self)}-{next(self._ids)}"
        state.setdefault("in_flight", {})[slot] = {"pid": os.getpid(), "until": now + IN_FLIGHT_LEASE}
        self._open[threading.get_ident()] = slot

    def _free_slot(self, state: State) -> None:
        slot = self._open.pop(threading.get_ident(), None)
        if slot is not None:
            state.get("in_flight", {}).pop(slot, None)

    def _live_slots(self, state: State, now: float) -> int:
        """Drop the slots of dead processes and expired leases; count the rest."""
        if threading.get_ident() in self._open:
            # A thread sends one request at a time: its earlier one ended without an answer (an exception).
            self._finish(state, now)
        slots = state.setdefault("in_flight", {})
        for slot, held in list(slots.items()):
            if held["until"] <= now or not pid_alive(int(held["pid"])):
                del slots[slot]
        return len(slots)


class IntervalPacer(Pacer):
    """At most one request per `min_interval` seconds, measured from the previous request's end."""

    def __init__(
        self,
        min_interval: float,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        ledger: Ledger | None = None,
    ) -> None:
        super().__init__(clock, sleep, ledger)
        self.min_interval = min_interval

    def _reserve(self) -> float:
        if self.min_interval <= 0:
            return 0.0
        with self.ledger.transaction() as state:
            now = self._clock()
            in_flight = self._live_slots(state, now)
            wait = float(state.get("next_at", 0.0)) - now
            if in_flight:
                wait = max(wait, POLL)  # someone's request is unanswered: the gap starts at its answer
            if wait > 0:
                return wait
            state["next_at"] = now + self.min_interval
            self._take_slot(state, now)
            return 0.0

    def after_response(self, response: httpx.Response | None) -> None:
        if self.min_interval <= 0:
            return
        with self.ledger.transaction() as state:
            self._finish(state, self._clock())

    def _finish(self, state: State, now: float) -> None:
        self._free_slot(state)
        # Measured from when the answer arrived: the server saw the request no later than that.
        state["next_at"] = max(float(state.get("next_at", 0.0)), now + self.min_interval)


class WindowPacer(Pacer):
    """Mirror of a sliding-window limit (`max_requests` per `interval` seconds).

    Each request's slot is released `interval` seconds after its *response* arrived: the server received the
    request no later than that, so a request sent after the slot frees can never land inside the old window,
    whatever the network latency. The limits are learned from the rate-limit headers (and shared through the
    ledger); `safety` slots are kept free for other clients of the same budget. When the server reports fewer
    remaining slots than the ledger accounts for (someone else is using the budget), we trust the server and wait
    for a full interval.
    """

    def __init__(
        self,
        max_requests: int = 100,
        interval: float = 10.0,
        safety: int = 0,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        ledger: Ledger | None = None,
    ) -> None:
        super().__init__(clock, sleep, ledger)
        self.max_requests = max_requests
        self.interval = interval
        self.safety = safety
        self.last = RateLimitSnapshot()

    def _capacity(self) -> int:
        return max(1, self.max_requests - self.safety)

    def _recent(self, state: State, now: float) -> list[float]:
        """Response times of the requests still inside the window, oldest first (kept pruned in the ledger)."""
        if "limits" in state:
            self.max_requests, self.interval = int(state["limits"][0]), float(state["limits"][1])
        # Only the newest `capacity` answers can ever hold a request back: keep the ledger that small.
        done = sorted(t for t in state.get("done", []) if t + self.interval > now)[-self._capacity() :]
        state["done"] = done
        return done

    def _reserve(self) -> float:
        if self._capacity() > UNBOUNDED:
            return 0.0
        with self.ledger.transaction() as state:
            now = self._clock()
            in_flight = self._live_slots(state, now)
            done = self._recent(state, now)
            wait = float(state.get("empty_until", 0.0)) - now
            over = len(done) + in_flight - self._capacity()
            if over >= 0:
                # The (over + 1)-th oldest finished request must leave the window first; if the window is full of
                # unanswered requests, look again shortly.
                wait = max(wait, done[over] + self.interval - now if over < len(done) else POLL)
            if wait > 0:
                return wait
            self._take_slot(state, now)
            return 0.0

    def after_response(self, response: httpx.Response | None) -> None:
        with self.ledger.transaction() as state:
            now = self._clock()
            self._finish(state, now)
            if response is None:
                return
            snap = parse_rate_headers(response.headers)
            self.last = snap
            if snap.burst_max or snap.interval_ms:
                self.max_requests = snap.burst_max or self.max_requests
                self.interval = snap.interval_ms / 1000.0 if snap.interval_ms else self.interval
                state["limits"] = [self.max_requests, self.interval]
            if snap.burst_remaining is not None and snap.burst_remaining <= self.safety:
                used = len(self._recent(state, now)) + len(state.get("in_flight", {}))
                if self._capacity() - used > snap.burst_remaining:
                    # Another client shares this budget: our ledger under-counts, so sit out one window.
                    state["empty_until"] = now + self.interval

    def _finish(self, state: State, now: float) -> None:
        self._free_slot(state)
        state["done"] = [*self._recent(state, now), now] if self._capacity() <= UNBOUNDED else []


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


def machine_pacer(key: str, state_dir: Path, factory: Callable[[Ledger], P]) -> P:
    """One pacer per rate budget in this process, its ledger a file that every process on the machine shares.

    Runs launched together (a backfill, the hourly run, a sync) are separate processes calling the same account.
    """
    directory = Path(state_dir).resolve()
    return shared_pacer(f"{key}@{directory}", lambda: factory(FileLedger(directory, key)))


def budget_key(*parts: str) -> str:
    """A registry key for a budget; credentials are hashed, never kept in clear."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()
