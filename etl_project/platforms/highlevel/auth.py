"""HighLevel authentication as httpx `Auth` flows: a Private Integration Token, or OAuth with rotating refresh tokens.

HighLevel rotates refresh tokens: each use invalidates the previous one. The new pair is therefore written to
the token store (atomically, owner-only) *before* the access token is used, and refreshes are serialised with a
file lock so two processes never spend the same refresh token.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from etl_project.platforms.errors import AuthenticationError
from etl_project.platforms.highlevel.settings import TOKEN_PATH

DEFAULT_TOKEN_STORE = Path.home() / ".config" / "etl_project" / "highlevel_tokens.json"


class BearerTokenAuth(httpx.Auth):
    """A fixed bearer token (HighLevel's Private Integration Token, `pit-…`)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:  # never show the token
        return "BearerTokenAuth(***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


@dataclass(frozen=True)
class OAuthTokens:
    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds

    def expired(self, now: float, margin: float = 60.0) -> bool:
        return now >= self.expires_at - margin

    def __repr__(self) -> str:
        return f"OAuthTokens(expires_at={self.expires_at})"


class TokenStore:
    """A JSON file outside the repository, mode 0600 in a 0700 folder, replaced atomically on every save."""

    def __init__(self, path: Path = DEFAULT_TOKEN_STORE) -> None:
        self.path = Path(path)

    def load(self) -> OAuthTokens | None:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        return OAuthTokens(data["access_token"], data["refresh_token"], float(data["expires_at"]))

    def save(self, tokens: OAuthTokens) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(asdict(tokens), fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


class OAuthRefreshAuth(httpx.Auth):
    """Bearer auth from the token store; refreshes when expired or on a 401, persisting the rotated pair first."""

    requires_response_body = True

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        store: TokenStore,
        user_type: str = "Location",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self.store = store
        self.user_type = user_type
        self._clock = clock
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"OAuthRefreshAuth(store={self.store.path})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        tokens = self.store.load()
        if tokens is None:
            raise AuthenticationError("highlevel", f"no OAuth tokens in {self.store.path}; authorise the app first")
        if tokens.expired(self._clock()):
            tokens = yield from self._refresh(request, tokens)
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
        response = yield request
        if response.status_code == 401:
            tokens = yield from self._refresh(request, tokens)
            request.headers["Authorization"] = f"Bearer {tokens.access_token}"
            yield request

    def _refresh(
        self, request: httpx.Request, seen: OAuthTokens
    ) -> Generator[httpx.Request, httpx.Response, OAuthTokens]:
        with self.store.locked():
            current = self.store.load() or seen
            if current.refresh_token != seen.refresh_token and not current.expired(self._clock()):
                return current  # another process refreshed while we waited for the lock
            response = yield httpx.Request(
                "POST",
                request.url.join(TOKEN_PATH),
                data={
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                    "grant_type": "refresh_token",
                    "refresh_token": current.refresh_token,
                    "user_type": self.user_type,
                },
                headers={"Accept": "application/json"},
            )
            if response.status_code != 200:
                try:
                    message = response.json().get("message") or response.reason_phrase
                except ValueError:
                    message = response.reason_phrase
                raise AuthenticationError(
                    "highlevel",
                    f"token refresh failed: {message}",
                    status_code=response.status_code,
                    method="POST",
                    path=TOKEN_PATH,
                )
            body = response.json()
            fresh = OAuthTokens(
                access_token=body["access_token"],
                refresh_token=body["refresh_token"],
                expires_at=self._clock() + float(body.get("expires_in", 86399)),
            )
            self.store.save(fresh)  # persist before use: the old refresh token is already dead
            self.refreshes += 1
            return fresh
