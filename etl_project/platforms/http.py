"""The one request method every platform client goes through.

It owns pacing, retries with backoff and jitter, `Retry-After`, the cap on total waiting, the check that a
successful answer's body is readable JSON, and the mapping of HTTP failures onto the typed errors in `errors.py`.
Platform clients subclass `ApiClient` and only describe their endpoints and how their error bodies look.

What is repeated: a request safe to repeat (GET, PUT, DELETE, or marked idempotent) after a 5xx, a transport
error or an unreadable 2xx body, up to `max_attempts`; any request after a "slow down" answer (429), which proves
it was not processed, for as long as the total wait allows; any request whose connection never opened. A write
that may have been applied (5xx, timeout, reset, unreadable 2xx) is never repeated here: the outbox decides.
"""

from __future__ import annotations

import functools
import random
import ssl
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import httpx

from etl_project.platforms import errors
from etl_project.platforms.pacing import Pacer

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Failures that happen before a request leaves: the platform cannot have seen it.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's CA bundle), built once per process: every `httpx.Client` would
    otherwise read and parse the bundle again (~20 ms, several clients per run)."""
    return httpx.create_ssl_context()


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts per request, exponential backoff bounds and the cap on total waiting.

    `max_attempts` counts failures (5xx, transport errors, unreadable bodies). "Slow down" answers are bounded by
    `max_total_wait` instead, so a storm of 429s of a few seconds costs waiting, never a failed step;
    `max_throttled_attempts` only stops a platform that says "retry at once" forever.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_total_wait: float = 120.0
    max_throttled_attempts: int = 100

    def backoff(self, attempt: int) -> float:
        """Full-jitter-ish exponential backoff: half to all of base * 2^(attempt-1), capped."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)


def retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` as seconds (only the delta-seconds form; HTTP dates are rare on APIs and ignored)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class ErrorBody:
    message: str
    trace_id: str | None = None
    details: object = None


class ApiClient:
    """Base of the platform clients: holds the injected `httpx.Client` and the request statistics."""

    platform: ClassVar[str] = "platform"
    # Answers that mean "too fast, not processed": retried by total wait, not by attempts.
    throttle_statuses: ClassVar[frozenset[int]] = frozenset({429})

    def __init__(
        self,
        http: httpx.Client,
        *,
        pacer: Pacer | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_refused: Callable[[errors.AuthenticationError], None] | None = None,
    ) -> None:
        self.http = http
        self.on_refused = on_refused
        self.pacer = pacer or Pacer()
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self.requests_sent = 0
        self.status_counts: Counter[int] = Counter()
        self.retried = 0
        self.unreadable = 0  # 2xx answers whose body was not readable JSON

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- hooks for subclasses ------------------------------------------------------------------------------
    def parse_error_body(self, response: httpx.Response) -> ErrorBody:
        try:
            body = response.json()
        except ValueError:
            return ErrorBody(message=response.text[:300] or response.reason_phrase)
        if isinstance(body, dict):
            message = body.get("message") or body.get("error") or response.reason_phrase
            return ErrorBody(message=str(message), trace_id=body.get("traceId"), details=body)
        return ErrorBody(message=str(body)[:300], details=body)

    def check_response(self, response: httpx.Response, method: str, path: str) -> None:
        """Called after every response (before retry decisions); may raise to stop the run."""

    def retry_delay(self, response: httpx.Response, attempt: int, safe_to_repeat: bool) -> float | None:
        """How long to wait before repeating a failed request, or None to give up on it.

        429 means the platform refused before processing, so even a create may be repeated; a 5xx only when the
        request is safe to repeat. Platforms with other "slow down" answers override this.
        """
        status = response.status_code
        if status == 429 or (status >= 500 and safe_to_repeat):
            return retry_after_seconds(response) or self.retry.backoff(attempt)
        return None

    # -- the request method ----------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one logical request, retrying what is safe to retry; return the successful response, whose
        `.json()` is known to parse.

        `idempotent` defaults from the method. A non-idempotent request (a create) is retried only when the
        platform provably did not process it: a refused connection or a 429. Refused credentials (after the auth
        flow's own refresh) are reported to `on_refused` before they are raised.
        """
        try:
            return self._request(method, path, params, json, data, headers, idempotent)
        except errors.AuthenticationError as exc:
            if self.on_refused is not None:
                self.on_refused(exc)
            raise

    def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        idempotent: bool | None,
    ) -> httpx.Response:
        method = method.upper()
        safe_to_repeat = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        waited = 0.0
        failures = throttled = 0
        while True:
            self.pacer.before_request()
            try:
                response = self.http.request(method, path, params=params, json=json, data=data, headers=headers)
            except httpx.TransportError as exc:
                self.pacer.after_response(None)
                failures += 1
                sent = not isinstance(exc, NEVER_SENT)
                delay = self.retry.backoff(failures)
                if (safe_to_repeat or not sent) and self._may_retry(failures, waited, delay):
                    waited += self._wait(delay)
                    continue
                raise errors.PlatformTransportError(
                    self.platform,
                    f"{type(exc).__name__}: no answer after {failures + throttled} attempt(s)",
                    method=method,
                    path=path,
                    request_sent=sent,
                ) from exc
            except BaseException:
                self.pacer.after_response(None)  # free the slot (shared between processes) whatever went wrong
                raise
            self.requests_sent += 1
            self.status_counts[response.status_code] += 1
            self.pacer.after_response(response)
            self.check_response(response, method, path)
            if response.is_success:
                problem = unreadable_body(response)
                if problem is None:
                    return response
                self.unreadable += 1
                failures += 1
                delay = self.retry.backoff(failures)
                if safe_to_repeat and self._may_retry(failures, waited, delay):
                    waited += self._wait(delay)
                    continue
                raise self.decode_error(response, method, path, problem, applied=not safe_to_repeat)
            if response.status_code in self.throttle_statuses:
                throttled += 1
                pause = self.retry_delay(response, throttled, safe_to_repeat)
                may = throttled < self.retry.max_throttled_attempts and self._within_wait(waited, pause)
            else:
                failures += 1
                pause = self.retry_delay(response, failures, safe_to_repeat)
                may = pause is not None and self._may_retry(failures, waited, pause)
            if pause is not None and may:
                waited += self._wait(pause)
                continue
            raise self.map_error(response, method, path)

    def _may_retry(self, failures: int, waited: float, delay: float) -> bool:
        return failures < self.retry.max_attempts and self._within_wait(waited, delay)

    def _within_wait(self, waited: float, delay: float | None) -> bool:
        return delay is not None and waited + delay <= self.retry.max_total_wait

    def _wait(self, delay: float) -> float:
        self.retried += 1
        self._sleep(delay)
        return delay

    def decode_error(
        self, response: httpx.Response, method: str, path: str, problem: str, *, applied: bool
    ) -> errors.PlatformDecodeError:
        """A 2xx whose body cannot be read: for a write not safe to repeat, the write stands but its answer is lost."""
        if applied:
            message = f"applied, but the answer is unreadable ({problem}); look it up before repeating it"
            return errors.AnswerUnreadableError(
                self.platform, message, status_code=response.status_code, method=method, path=path
            )
        return errors.PlatformDecodeError(
            self.platform, f"unreadable answer ({problem})", status_code=response.status_code, method=method, path=path
        )

    def map_error(self, response: httpx.Response, method: str, path: str) -> errors.PlatformError:
        body = self.parse_error_body(response)
        status = response.status_code
        cls: type[errors.PlatformError]
        if status == 401:
            cls = errors.AuthenticationError
        elif status == 403:
            cls = errors.PermissionDeniedError
        elif status == 404 or (status == 400 and "not found" in body.message.lower()):
            cls = errors.NotFoundError
        elif status == 409:
            cls = errors.ConflictError
        elif status == 429:
            cls = errors.RateLimitError
        elif status >= 500:
            cls = errors.ServerError
        else:
            cls = errors.InvalidRequestError
        return cls(
            self.platform,
            body.message,
            status_code=status,
            method=method,
            path=path,
            trace_id=body.trace_id,
            details=body.details,
        )


def unreadable_body(response: httpx.Response) -> str | None:
    """Why a successful answer's body is not JSON (cut short, an HTML page), or None when it is (or is empty).

    Only the body's size and type are named: a body can carry personal data, which has no place in an error."""
    if not response.content:
        return None
    try:
        response.json()
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
        kind = response.headers.get("Content-Type", "no content type").split(";")[0]
        return f"{len(response.content)} bytes of {kind}: {type(exc).__name__}"
    return None
