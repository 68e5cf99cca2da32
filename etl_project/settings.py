"""Process-level settings read from the environment (and a `.env` file in the working directory).

The only module besides the CLIs that reads the environment. Secrets are not read here: they are bound as
`dg.EnvVar` in `definitions.py`, so they never appear in run config, logs or metadata.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from dotenv import load_dotenv

from etl_project.platforms.highlevel.settings import REAL_BASE_URL as HIGHLEVEL_REAL_BASE_URL
from etl_project.platforms.sendapp.settings import REAL_BASE_URL as SENDAPP_REAL_BASE_URL
from etl_project.platforms.sendowl.settings import REAL_BASE_URL as SENDOWL_REAL_BASE_URL

load_dotenv(Path.cwd() / ".env", override=False)

DEFAULT_START_DATE = "2026-01-01"


def partitions_start_date() -> str:
    value = os.environ.get("ETL_PARTITIONS_START", DEFAULT_START_DATE)
    date.fromisoformat(value)  # fail at load time with a clear error, not in a run
    return value


def duckdb_path() -> str:
    return os.environ.get("ETL_DUCKDB_PATH", str(Path("data") / "etl.duckdb"))


def state_dir() -> str:
    """Where the rate budgets shared by every process on this machine live (one small file per budget)."""
    return os.environ.get("ETL_STATE_DIR") or str(Path(duckdb_path()).parent / "state")


def highlevel_base_url() -> str:
    return os.environ.get("HIGHLEVEL_BASE_URL", HIGHLEVEL_REAL_BASE_URL)


def highlevel_uses_oauth() -> bool:
    return bool(os.environ.get("HIGHLEVEL_CLIENT_ID"))


def sendapp_base_url() -> str:
    return os.environ.get("SENDAPP_BASE_URL", SENDAPP_REAL_BASE_URL)


def sendowl_base_url() -> str:
    return os.environ.get("SENDOWL_BASE_URL", SENDOWL_REAL_BASE_URL)


def sendowl_use_updated_after() -> bool:
    """SendOwl's `updated_after` filter is reported by two sources only: on by default, switchable."""
    return os.environ.get("SENDOWL_UPDATED_AFTER", "on").lower() not in {"off", "0", "false", "no"}


def sync_config_path() -> str:
    """The sync config file (TOML); empty: the shipped default."""
    return os.environ.get("ETL_SYNC_CONFIG", "")


def alert_webhook_configured() -> bool:
    """Whether alerts are posted (the URL itself is a secret, bound as dg.EnvVar)."""
    return bool(os.environ.get("ETL_ALERT_WEBHOOK_URL"))


def dagster_ui_url() -> str:
    return os.environ.get("ETL_DAGSTER_UI_URL", "http://127.0.0.1:3000")


def locations_file() -> str:
    """The locations file (TOML) of a many-location deployment (docs/agencies.md); empty: one location from the
    HIGHLEVEL_* variables, as before."""
    return os.environ.get("ETL_LOCATIONS_FILE", "")


def sensor_interval_seconds() -> int:
    """How often the sync-after-extraction and alert sensors tick (`ETL_SENSOR_INTERVAL_SECONDS`, default 30):
    the most a sync waits for its extraction's end to be noticed, and an alert for a failed check."""
    raw = os.environ.get("ETL_SENSOR_INTERVAL_SECONDS", "").strip() or "30"
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"ETL_SENSOR_INTERVAL_SECONDS must be a whole number of seconds >= 1, got {raw!r}")
    return int(raw)


def registry_backend() -> str:
    """Where the location registry lives: `sqlite` (default, beside the data) or `postgres` (the instance's)."""
    backend = os.environ.get("ETL_REGISTRY", "sqlite").strip().lower() or "sqlite"
    if backend not in ("sqlite", "postgres"):
        raise ValueError(f"ETL_REGISTRY must be sqlite or postgres, got {backend!r}")
    return backend


def postgres_params() -> dict[str, str]:
    """The Dagster instance's PostgreSQL connection (the `DAGSTER_PG_*` variables deploy/dagster.yaml reads)."""
    missing = [
        n
        for n in ("DAGSTER_PG_HOST", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB")
        if not os.environ.get(n)
    ]
    if missing:
        raise KeyError(f"ETL_REGISTRY=postgres needs {', '.join(missing)} (the instance's PostgreSQL connection)")
    return {
        "host": os.environ["DAGSTER_PG_HOST"],
        "port": os.environ.get("DAGSTER_PG_PORT", "5432"),
        "user": os.environ["DAGSTER_PG_USERNAME"],
        "password": os.environ["DAGSTER_PG_PASSWORD"],
        "dbname": os.environ["DAGSTER_PG_DB"],
    }


def named_secret(name: str, owner: str) -> str:
    """The value of an environment variable the locations file names (a credential); a clear error if unset."""
    value = os.environ.get(name, "")
    if not value:
        raise KeyError(f"environment variable {name} (named by {owner}) is not set")
    return value
