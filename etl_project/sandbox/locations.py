"""The agency the sandbox stands in for: one HighLevel location (sub-account) per client of the agency, each with its
own SendOwl and SendApp account, and the deterministic names of their credentials.

Location 0 is the sandbox's original single location, its credentials unchanged (`loc-sandbox-0001`,
`pit-sandbox-token`, ...); location i > 0 carries the number i + 1 in every id and credential
(`loc-sandbox-0002`, `pit-sandbox-token-0002`, `sandbox-sendowl-key-0002`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from etl_project.sandbox.highlevel.store import HighLevelSettings
from etl_project.sandbox.people import Person, make_people
from etl_project.sandbox.sendapp.store import SendAppSettings
from etl_project.sandbox.sendowl.store import SendOwlSettings

COMPANY_ID = "comp-sandbox-0001"
COMPANY_NAME = "Sandbox Agency"
SEED_STEP = 1000  # location i's records come from seed + SEED_STEP * i
PEOPLE_STEP = 100_000  # location i's people are numbered from i * PEOPLE_STEP: unique phones and addresses
SHARED_EVERY = 10  # every tenth person of a location i > 0 is also location 0's person in the same place
STREETS = ("12 Oak Street, Austin, TX 73301", "400 Market St, Boston, MA 02108", "77 Harbor Way, Miami, FL 33101")


@dataclass(frozen=True)
class LocationAccount:
    """What a sync of one location is configured with: its HighLevel location and token, its SendOwl and SendApp
    accounts."""

    location_id: str
    name: str
    highlevel_token: str
    sendowl_key: str
    sendowl_secret: str
    sendapp_api_key: str
    sendapp_channel_token: str

    @property
    def sendowl_webhook_secret(self) -> str:
        """The stand-in signs its shop's deliveries with the account's API secret."""
        return self.sendowl_secret


@dataclass
class LocationSettings:
    """One location's settings on each platform (location 0's are the sandbox configuration's own)."""

    highlevel: HighLevelSettings
    sendowl: SendOwlSettings
    sendapp: SendAppSettings

    def account(self, name: str) -> LocationAccount:
        hl, so, sa = self.highlevel, self.sendowl, self.sendapp
        return LocationAccount(hl.location_id, name, hl.token, so.key, so.secret, sa.api_key, sa.channel_token)


def number(index: int) -> str:
    """The four-digit number location `index` carries in its ids and credentials."""
    return f"{index + 1:04d}"


def location_name(index: int) -> str:
    return f"Sandbox Location {number(index)}"


def location_address(index: int) -> str:
    return STREETS[index % len(STREETS)]


def location_settings(index: int, base: LocationSettings) -> LocationSettings:
    """Location `index`'s settings: `base` itself for location 0, otherwise `base`'s knobs with the location's own
    ids and credentials, and id sequences far apart (the platforms number records platform-wide)."""
    if index == 0:
        return base
    n = number(index)
    return LocationSettings(
        replace(base.highlevel, location_id=f"loc-sandbox-{n}", token=f"pit-sandbox-token-{n}"),
        replace(
            base.sendowl,
            key=f"sandbox-sendowl-key-{n}",
            secret=f"sandbox-sendowl-secret-{n}",
            order_id_base=base.sendowl.order_id_base + 2_000_000 * index,
        ),
        replace(
            base.sendapp,
            api_key=f"sandbox-sendapp-key-{n}",
            channel_token=f"sandbox-channel-token-{n}",
            id_base=base.sendapp.id_base + 10_000_000 * index,
        ),
    )


def default_accounts(count: int) -> list[LocationAccount]:
    """The accounts of a sandbox started with `--locations count` and default credentials (no SANDBOX_* overrides)."""
    base = LocationSettings(HighLevelSettings(), SendOwlSettings(), SendAppSettings())
    return [location_settings(i, base).account(location_name(i)) for i in range(count)]


def location_seed(seed: int, index: int) -> int:
    return seed + SEED_STEP * index


def location_people(seed: int, count: int, index: int) -> list[Person]:
    """The first `count` people of location `index` in a sandbox seeded with `seed`: its own, except every tenth,
    who is location 0's person in that place (same name, email and phone): someone who buys from two of the
    agency's clients, so a sync that leaks records between locations has something to leak."""
    if index == 0:
        return make_people(seed, count)
    own = make_people(location_seed(seed, index), count, start=PEOPLE_STEP * index)
    shared = make_people(seed, count)
    return [shared[k] if k % SHARED_EVERY == SHARED_EVERY // 2 else person for k, person in enumerate(own)]
