"""Point the project at a running sandbox: the environment for `dagster dev` and resources for the demo, and the
webhook receiver's environment (the stand-ins' key and secret) with the stand-ins pointed at it.

The sandbox's credentials are fixed development values (overridable with SANDBOX_* variables), not secrets.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from dagster_duckdb import DuckDBResource

from etl_project.defs.resources import HighLevelResource, SendAppResource, SendOwlResource, WarehouseResource
from etl_project.sandbox.highlevel.store import HighLevelSettings
from etl_project.sandbox.locations import LocationAccount
from etl_project.sandbox.sendapp.store import SendAppSettings
from etl_project.sandbox.sendowl.store import SendOwlSettings
from etl_project.sandbox.webhooks import SANDBOX_APP_ID

# The real limits scaled down, for runs that must not spend minutes waiting (the demo, the soak's simulated hours):
# SendOwl's one request a second and SendApp's 60 a minute 25-30 times faster, HighLevel's 100 per 10 s ten times
# faster (its client reads the budget from the headers). The clients' pacing is scaled to match (`FAST_PACING`).
FAST_LIMITS = {
    "sendowl": {"burst_max": 1, "interval_ms": 30},
    "sendapp": {"burst_max": 60, "interval_ms": 2000},
    "highlevel": {"burst_max": 100, "interval_ms": 1000},
}
FAST_PACING = {"sendowl": 0.04, "sendapp": 0.04}  # seconds between requests, per client


ADMIN_PARAM = {"highlevel": "location", "sendowl": "account", "sendapp": "account"}  # how admin calls name one


def scale_down_limits(admin_urls: dict[str, str]) -> None:
    """Switch running stand-ins (`admin_urls`: platform -> server root), every location's, to `FAST_LIMITS`."""
    for name, body in FAST_LIMITS.items():
        url = f"{admin_urls[name]}/_sandbox/rate-limits"
        httpx.post(url, params={ADMIN_PARAM[name]: "all"}, json=body, timeout=10).raise_for_status()


def sandbox_env(base_urls: dict[str, str]) -> dict[str, str]:
    hl, so, sa = HighLevelSettings(), SendOwlSettings(), SendAppSettings()
    return {
        "HIGHLEVEL_BASE_URL": base_urls["highlevel"],
        "HIGHLEVEL_TOKEN": os.environ.get("SANDBOX_HIGHLEVEL_TOKEN", hl.token),
        "HIGHLEVEL_LOCATION_ID": os.environ.get("SANDBOX_HIGHLEVEL_LOCATION_ID", hl.location_id),
        "SENDOWL_BASE_URL": base_urls["sendowl"],
        "SENDOWL_KEY": os.environ.get("SANDBOX_SENDOWL_KEY", so.key),
        "SENDOWL_SECRET": os.environ.get("SANDBOX_SENDOWL_SECRET", so.secret),
        "SENDAPP_BASE_URL": base_urls["sendapp"],
        "SENDAPP_API_KEY": os.environ.get("SANDBOX_SENDAPP_API_KEY", sa.api_key),
        "SENDAPP_CHANNEL_TOKEN": sa.channel_token,
    }


def sandbox_location_env(base_urls: dict[str, str], account: LocationAccount) -> dict[str, str]:
    """The environment of a sync of one location of a running sandbox (`Sandbox.location_accounts()`, or
    `GET /_sandbox/locations` on HighLevel's stand-in, or `locations.default_accounts(n)` for `--locations n`)."""
    return {
        "HIGHLEVEL_BASE_URL": base_urls["highlevel"],
        "HIGHLEVEL_TOKEN": account.highlevel_token,
        "HIGHLEVEL_LOCATION_ID": account.location_id,
        "SENDOWL_BASE_URL": base_urls["sendowl"],
        "SENDOWL_KEY": account.sendowl_key,
        "SENDOWL_SECRET": account.sendowl_secret,
        "SENDAPP_BASE_URL": base_urls["sendapp"],
        "SENDAPP_API_KEY": account.sendapp_api_key,
        "SENDAPP_CHANNEL_TOKEN": account.sendapp_channel_token,
    }


def sandbox_resources(base_urls: dict[str, str], database: str, fast_limits: bool = False) -> dict[str, Any]:
    """Resources for a running sandbox's location 0; `fast_limits`: paced for stand-ins switched by
    `scale_down_limits`."""
    return resources_from_env(sandbox_env(base_urls), database, fast_limits)


def sandbox_location_resources(
    base_urls: dict[str, str], account: LocationAccount, database: str, fast_limits: bool = False
) -> dict[str, Any]:
    """Resources for one location of a running sandbox, with its own warehouse `database`."""
    return resources_from_env(sandbox_location_env(base_urls, account), database, fast_limits)


# Each location's credentials, by the environment variable the locations file names (`{prefix}_{number}_{KEY}`).
LOCATION_SECRETS = {
    "highlevel_token_env": "HIGHLEVEL_TOKEN",
    "sendowl_key_env": "SENDOWL_KEY",
    "sendowl_secret_env": "SENDOWL_SECRET",
    "sendapp_api_key_env": "SENDAPP_API_KEY",
    "sendapp_channel_token_env": "SENDAPP_CHANNEL_TOKEN",
    "sendowl_webhook_secret_env": "SENDOWL_WEBHOOK_SECRET",
}


def write_locations_file(
    folder: Path, accounts: Sequence[LocationAccount], sync_config: str = "", prefix: str = "SANDBOX_LOC"
) -> tuple[Path, dict[str, str]]:
    """A locations file (docs/agencies.md) for a running sandbox's locations, written as `folder/locations.toml`
    with `folder` as its data folder (each location's warehouse in `folder/locations/<id>/`). The file names
    each credential's environment variable; the returned environment holds their values, for the caller to set
    in its own process (and its children): the file never holds a credential."""
    lines = ['data_dir = "."', ""]
    env: dict[str, str] = {}
    for index, account in enumerate(accounts):
        lines += ["[[locations]]", f'id = "{account.location_id}"', f'name = "{account.name}"']
        if sync_config:
            lines.append(f'sync_config = "{sync_config}"')
        for key, suffix in LOCATION_SECRETS.items():
            name = f"{prefix}_{index + 1:04d}_{suffix}"
            env[name] = getattr(account, key.removesuffix("_env"))
            lines.append(f'{key} = "{name}"')
        lines.append("")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "locations.toml"
    path.write_text("\n".join(lines))
    return path, env


def running_locations(highlevel_admin_url: str) -> list[LocationAccount]:
    """Every location of a running sandbox with its accounts (`GET /_sandbox/locations` on HighLevel's port)."""
    view = httpx.get(f"{highlevel_admin_url}/_sandbox/locations", timeout=10).raise_for_status().json()
    return [LocationAccount(**entry["account"]) for entry in view["locations"] if entry.get("account")]


def sandbox_locations_resources(
    base_urls: dict[str, str], locations_file: str, fast_limits: bool = False
) -> dict[str, Any]:
    """Resources for a running sandbox's locations through a locations file: every run names its location with
    the `etl/location` tag (outside a run: `resource.for_location(id)`)."""
    pacing = FAST_PACING if fast_limits else {"sendowl": 1.0, "sendapp": 1.0}
    return {
        "highlevel": HighLevelResource(base_url=base_urls["highlevel"], locations_file=locations_file),
        "sendowl": SendOwlResource(
            base_url=base_urls["sendowl"], locations_file=locations_file, min_interval_seconds=pacing["sendowl"]
        ),
        "sendapp": SendAppResource(
            base_url=base_urls["sendapp"], locations_file=locations_file, min_interval_seconds=pacing["sendapp"]
        ),
        "duckdb": WarehouseResource(locations_file=locations_file),
    }


def resources_from_env(env: dict[str, str], database: str, fast_limits: bool = False) -> dict[str, Any]:
    pacing = FAST_PACING if fast_limits else {"sendowl": 1.0, "sendapp": 1.0}
    return {
        "highlevel": HighLevelResource(
            base_url=env["HIGHLEVEL_BASE_URL"],
            token=env["HIGHLEVEL_TOKEN"],
            location_id=env["HIGHLEVEL_LOCATION_ID"],
        ),
        "sendowl": SendOwlResource(
            base_url=env["SENDOWL_BASE_URL"],
            key=env["SENDOWL_KEY"],
            secret=env["SENDOWL_SECRET"],
            min_interval_seconds=pacing["sendowl"],
        ),
        "sendapp": SendAppResource(
            base_url=env["SENDAPP_BASE_URL"],
            api_key=env["SENDAPP_API_KEY"],
            channel_token=env["SENDAPP_CHANNEL_TOKEN"],
            min_interval_seconds=pacing["sendapp"],
        ),
        "duckdb": DuckDBResource(database=database),
    }


def receiver_env(admin_urls: dict[str, str], inbox: str, locations: Sequence[LocationAccount] = ()) -> dict[str, str]:
    """The webhook receiver's environment for a running sandbox (`admin_urls`: platform -> server root): HighLevel's
    stand-in's public key (it prints it; `GET /_sandbox/webhooks` shows it), its location (or every one of
    `locations`) and app id, SendOwl's signing secret (location 0's account), and the inbox file (the sensor must
    read the same one: `WEBHOOK_INBOX_PATH`)."""
    view = httpx.get(f"{admin_urls['highlevel']}/_sandbox/webhooks", timeout=10).json()
    env = sandbox_env({"highlevel": "", "sendowl": "", "sendapp": ""})
    return {
        "HIGHLEVEL_WEBHOOK_PUBLIC_KEYS": str(view["public_key"]),
        "HIGHLEVEL_LOCATION_IDS": ",".join(a.location_id for a in locations) or env["HIGHLEVEL_LOCATION_ID"],
        "HIGHLEVEL_APP_ID": SANDBOX_APP_ID,
        "SENDOWL_WEBHOOK_SECRET": env["SENDOWL_SECRET"],
        "WEBHOOK_INBOX_PATH": inbox,
    }


def point_webhooks(admin_urls: dict[str, str], receiver_base_url: str) -> None:
    """Make HighLevel's and SendOwl's stand-ins deliver their signed webhooks to the receiver at that base URL."""
    for name in ("highlevel", "sendowl"):
        url = f"{receiver_base_url}/webhooks/{name}"
        httpx.post(f"{admin_urls[name]}/_sandbox/webhooks", json={"url": url}, timeout=10).raise_for_status()
