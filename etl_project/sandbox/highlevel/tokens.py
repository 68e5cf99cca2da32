"""Every credential the HighLevel stand-in knows, for the agency and all its locations: Private Integration Tokens,
OAuth access and refresh tokens (Location and Company), and authorization codes.

One registry for the whole app, as HighLevel's own IAM: a bearer token alone says which location (or company) a
request is for, which is how one base URL serves every location.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

LOCATION, COMPANY = "Location", "Company"  # HighLevel's `userType` values


@dataclass
class Grant:
    """Who a credential acts for: a location or the company (`owner` is its id), until when, and how it was made."""

    user_type: str
    owner: str
    expires: float = math.inf  # time.time() seconds; a PIT never expires
    pit: bool = False
    revoked: bool = False

    def live(self, now: float | None = None) -> bool:
        return not self.revoked and self.expires > (time.time() if now is None else now)


@dataclass
class IssuedTokens:
    access: str
    refresh: str | None
    expires_in: int


@dataclass
class TokenRegistry:
    access: dict[str, Grant] = field(default_factory=dict)
    refresh: dict[str, Grant] = field(default_factory=dict)  # one use each: rotation
    codes: dict[str, Grant] = field(default_factory=dict)  # one use each
    # A used refresh token → when it was used and what it answered (for a configurable reuse grace period).
    rotated: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)

    def add_pit(self, token: str, location_id: str) -> None:
        self.access[token] = Grant(LOCATION, location_id, pit=True)

    def grant(self, token: str) -> Grant | None:
        return self.access.get(token) if token else None

    def issue(self, user_type: str, owner: str, ttl: int, with_refresh: bool = True) -> IssuedTokens:
        access = f"at-{secrets.token_hex(16)}"
        self.access[access] = Grant(user_type, owner, time.time() + ttl)
        refresh = None
        if with_refresh:
            refresh = f"rt-{secrets.token_hex(16)}"
            self.refresh[refresh] = Grant(user_type, owner)
        return IssuedTokens(access, refresh, ttl)

    def new_code(self, user_type: str, owner: str) -> str:
        code = f"code-{secrets.token_hex(8)}"
        self.codes[code] = Grant(user_type, owner)
        return code

    def expire_all(self) -> int:
        """Expire every OAuth access token now (PITs do not expire; refresh tokens stay valid)."""
        expiring = [g for g in self.access.values() if not g.pit]
        for grant in expiring:
            grant.expires = 0
        return len(expiring)

    def revoke(self, owner: str, *, pit: bool) -> int:
        """Revoke every access and refresh token of `owner` (its PIT too when `pit`); returns how many."""
        revoked = 0
        for table in (self.access, self.refresh):
            for grant in table.values():
                if grant.owner == owner and not grant.revoked and (pit or not grant.pit):
                    grant.revoked = True
                    revoked += 1
        return revoked
