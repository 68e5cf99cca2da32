"""Whether a failure needs a person. Pure: error class names and history in, a decision out.

A transient fault (a 5xx burst, a reset, a timeout, a 429 storm, DuckDB's lock held a moment too long) is retried
by the next tick, so its first failure is recorded but nobody is paged; the same job failing again in a row is.
Anything else (refused credentials, a config error, a guard that needs an approval, a bug) alerts at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TRANSIENT_ERRORS = frozenset(
    {
        "PlatformTransportError",
        "PlatformDecodeError",
        "ServerError",
        "RateLimitError",
        "DailyBudgetExhaustedError",
        "ConnectError",
        "ReadTimeout",
        "RemoteProtocolError",
        "IOException",  # duckdb: the file lock is held by another process
    }
)


@dataclass(frozen=True)
class Decision:
    alert: bool
    why: str


def decide(error_classes: Sequence[str], previous_failed: bool) -> Decision:
    """`error_classes`: the root error class of each failed step; `previous_failed`: the job's run before this."""
    transient = bool(error_classes) and all(name in TRANSIENT_ERRORS for name in error_classes)
    if not transient:
        return Decision(True, "not a transient fault: a person is needed")
    if previous_failed:
        return Decision(True, "a transient fault, but the previous run of this job failed too")
    return Decision(False, "a transient fault: held, the next tick retries it")
