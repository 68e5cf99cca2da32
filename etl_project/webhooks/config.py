"""The receiver's configuration, parsed from an environment mapping (the CLI hands it `os.environ`).

Every setting fails at start-up with a clear message rather than at the first delivery. The HighLevel location
list falls back to `HIGHLEVEL_LOCATION_ID`, the one location the sync is configured for today (definitions.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from etl_project import settings
from etl_project.webhooks import signing

DEFAULT_PORT = 8110
DEFAULT_MAX_AGE_SECONDS = 300
DEFAULT_MAX_BODY_BYTES = 256 * 1024  # HighLevel's largest bodies (contacts with custom fields) are a few kB
_ON = {"on", "1", "true", "yes"}


@dataclass(frozen=True)
class ReceiverConfig:
    port: int = DEFAULT_PORT
    highlevel_keys: tuple[Ed25519PublicKey, ...] = ()
    legacy_rsa: bool = False
    rsa_keys: tuple[RSAPublicKey, ...] = ()
    app_id: str = ""  # empty: any appId is accepted (a Private Integration setup has none)
    location_ids: frozenset[str] = frozenset()
    # Many locations (ETL_LOCATIONS_FILE): every location's events are stored; the sensor routes those of synced
    # locations to their runs (an agency installs on new locations without restarting the receiver).
    all_locations: bool = False
    locations_file: str = ""  # many locations: SendOwl deliveries come to /webhooks/sendowl/<location id>
    sendowl_secret: str = ""  # empty: every SendOwl delivery is refused (an empty HMAC key proves nothing)
    max_age_seconds: int = DEFAULT_MAX_AGE_SECONDS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    inbox_path: Path = Path("webhook_inbox.sqlite3")
    inbox_synchronous: str = "full"


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}")
    return value


def _list(raw: str) -> frozenset[str]:
    return frozenset(item.strip() for item in raw.split(",") if item.strip())


def default_inbox_path() -> Path:
    """Beside the rate budgets in the state dir: a local file like the warehouse (its bodies hold personal data)."""
    return Path(settings.state_dir()) / "webhook_inbox.sqlite3"


def inbox_path(env: Mapping[str, str]) -> Path:
    """`WEBHOOK_INBOX_PATH`, else the default: the one setting the receiver and the Dagster sensor both read."""
    return Path(env.get("WEBHOOK_INBOX_PATH") or default_inbox_path())


def sensor_interval_seconds(env: Mapping[str, str]) -> int:
    """How often the sensor drains the inbox (`WEBHOOK_SENSOR_INTERVAL_SECONDS`, default 30)."""
    return _int(env, "WEBHOOK_SENSOR_INTERVAL_SECONDS", 30, 1)


def config_from_env(env: Mapping[str, str]) -> ReceiverConfig:
    legacy = env.get("HIGHLEVEL_WEBHOOK_LEGACY_RSA", "off").strip().lower() in _ON
    synchronous = env.get("WEBHOOK_INBOX_SYNCHRONOUS", "full").strip().lower()
    if synchronous not in {"full", "normal"}:
        raise ValueError("WEBHOOK_INBOX_SYNCHRONOUS must be full or normal")
    locations = _list(env.get("HIGHLEVEL_LOCATION_IDS", "")) or _list(env.get("HIGHLEVEL_LOCATION_ID", ""))
    return ReceiverConfig(
        port=_int(env, "WEBHOOK_PORT", DEFAULT_PORT, 0),
        highlevel_keys=tuple(
            signing.load_ed25519_keys(env.get("HIGHLEVEL_WEBHOOK_PUBLIC_KEYS") or signing.HIGHLEVEL_ED25519_KEY)
        ),
        legacy_rsa=legacy,
        rsa_keys=tuple(signing.load_rsa_keys(env.get("HIGHLEVEL_WEBHOOK_RSA_PUBLIC_KEYS") or signing.HIGHLEVEL_RSA_KEY))
        if legacy
        else (),
        app_id=env.get("HIGHLEVEL_APP_ID", "").strip(),
        location_ids=locations,
        all_locations=bool(env.get("ETL_LOCATIONS_FILE")) and not env.get("HIGHLEVEL_LOCATION_IDS"),
        locations_file=env.get("ETL_LOCATIONS_FILE", ""),
        sendowl_secret=env.get("SENDOWL_WEBHOOK_SECRET", ""),
        max_age_seconds=_int(env, "WEBHOOK_MAX_AGE_SECONDS", DEFAULT_MAX_AGE_SECONDS, 1),
        max_body_bytes=_int(env, "WEBHOOK_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1024),
        inbox_path=inbox_path(env),
        inbox_synchronous=synchronous,
    )
