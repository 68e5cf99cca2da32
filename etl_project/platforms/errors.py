"""Typed errors raised by every platform client.

Messages are built from the platform's response body and the request's method and path only, never from
headers or query strings, so a token can never leak into a log line or an exception.
"""

from __future__ import annotations


class PlatformError(Exception):
    """Base class for everything a platform client raises."""

    def __init__(
        self,
        platform: str,
        message: str,
        *,
        status_code: int | None = None,
        method: str | None = None,
        path: str | None = None,
        trace_id: str | None = None,
        details: object = None,
    ) -> None:
        self.platform = platform
        self.message = message
        self.status_code = status_code
        self.method = method
        self.path = path
        self.trace_id = trace_id
        self.details = details
        where = f" {method} {path}" if method and path else ""
        status = f" HTTP {status_code}" if status_code is not None else ""
        trace = f" (traceId {trace_id})" if trace_id else ""
        super().__init__(f"{platform}{where}{status}: {message}{trace}")


class PlatformTransportError(PlatformError):
    """The request never got an HTTP answer (connect, read or write failure, timeout, reset).

    `request_sent` is False only when the connection never opened, so the platform cannot have seen the request.
    """

    def __init__(
        self,
        platform: str,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(platform, message, method=method, path=path)
        self.request_sent = request_sent


class PlatformDecodeError(PlatformError):
    """A 2xx answer whose body is not readable JSON (cut short, an HTML page), after the retries a request safe
    to repeat gets."""


class AnswerUnreadableError(PlatformDecodeError):
    """A write not safe to repeat was answered 2xx with an unreadable body: it was applied, but what it made is
    unknown. Treat it like a lost answer: look the record up before any retry, or hold it in doubt."""


class AuthenticationError(PlatformError):
    """401: the credentials were rejected (expired, revoked, wrong scope)."""


class PermissionDeniedError(PlatformError):
    """403: the credentials are valid but not for this resource (e.g. another location)."""


class NotFoundError(PlatformError):
    """The record does not exist (404, or HighLevel's 400 "not found")."""


class ConflictError(PlatformError):
    """409: the write collides with an existing record (e.g. a duplicate number)."""


class InvalidRequestError(PlatformError):
    """400/415/422: the platform refused the request body or parameters."""


class RateLimitError(PlatformError):
    """429 after all retries were spent."""


class DailyBudgetExhaustedError(PlatformError):
    """The platform's daily request budget is (nearly) used up; the run stops instead of hammering it."""


class ServerError(PlatformError):
    """5xx after all retries were spent."""


def may_have_applied(exc: PlatformError) -> bool:
    """Could the platform have applied the write that raised `exc`? Only a refusal proves it did not: a 429 or another
    4xx, a connection that never opened, a check made before the request was sent."""
    if isinstance(exc, PlatformTransportError):
        return exc.request_sent
    if isinstance(exc, ServerError | PlatformDecodeError):
        return True
    if isinstance(exc, DailyBudgetExhaustedError):
        # Raised after an answer (which it names) or before a batch (no status): only the first may be applied.
        return exc.status_code is not None and not 400 <= exc.status_code < 500
    return False
