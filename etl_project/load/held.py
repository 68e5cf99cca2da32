"""The warehouse held open for the send loop's bookkeeping, let go while a platform call takes its time.

A row's booking and the next row's preparation share one opening of the file (`Warehouse.held`). Around each
platform call the loop lets go, but only after `LINGER_SECONDS`: a call answered within it (a quick platform, a
local mirror) keeps the opening for the booking that follows, since opening and closing the file cost several
milliseconds each; a slower one (network latency, pacing, retries, a 429 storm) gives the file up while it waits,
so runs and sensors in other processes take their turn, as before. Either way another process waits at most about
that long plus one booking.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack

LINGER_SECONDS = 0.05


class Held:
    def __init__(self, hold: Callable[[], AbstractContextManager[None]], linger: float = LINGER_SECONDS) -> None:
        self._hold = hold
        self._linger = linger
        self._lock = threading.Lock()
        self._stack: ExitStack | None = None
        self._timer: threading.Timer | None = None

    def enter(self) -> None:
        """Hold the file (still held if the last `leave_soon` has not expired)."""
        with self._lock:
            self._cancel()
            if self._stack is None:
                stack = ExitStack()
                stack.enter_context(self._hold())
                self._stack = stack

    def leave_soon(self) -> None:
        """A platform call starts: let go of the file unless `enter` comes back within the linger."""
        with self._lock:
            if self._stack is not None and self._timer is None:
                self._timer = threading.Timer(self._linger, self._expire)
                self._timer.daemon = True
                self._timer.start()

    def leave(self) -> None:
        """Let go now (the loop is over)."""
        with self._lock:
            self._cancel()
            self._close()

    def _expire(self) -> None:
        with self._lock:
            if self._timer is not threading.current_thread():
                return  # `enter` or `leave` came first
            self._timer = None
            self._close()

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _close(self) -> None:
        if self._stack is not None:
            stack, self._stack = self._stack, None
            stack.close()
