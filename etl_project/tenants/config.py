"""The locations file (TOML, path in `ETL_LOCATIONS_FILE`): which locations to sync and with which accounts.

Secrets never appear in it: each credential is named by the environment variable that holds it. A location listed
here is synced with the HighLevel token its `highlevel_token_env` names (a Private Integration Token), or, without
one, with tokens minted from the agency's Company grant (`[agency]`). Locations the agency installed the app on but
this file does not list are discovered and synced HighLevel-only, with `[defaults]`.

    data_dir = "data"                       # per-location warehouses and tokens (a shared volume across workers)

    [agency]                                # optional: an agency's Company grant
    company_id = "…"
    app_id = "…"
    client_id_env = "HIGHLEVEL_CLIENT_ID"
    client_secret_env = "HIGHLEVEL_CLIENT_SECRET"

    [defaults]
    sync_config = "sync.toml"               # optional; empty: the shipped default

    [[locations]]
    id = "ve9EPM428h8vShlRW1KT"
    name = "Acme Fitness"
    highlevel_token_env = "ACME_HIGHLEVEL_TOKEN"
    sendowl_key_env = "ACME_SENDOWL_KEY"
    sendowl_secret_env = "ACME_SENDOWL_SECRET"
    sendapp_api_key_env = "ACME_SENDAPP_API_KEY"
    sendapp_channel_token_env = "ACME_SENDAPP_CHANNEL_TOKEN"
    sync_config = "acme.toml"
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from etl_project.sync.config import ConfigError

LOCATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # also a folder name and a run tag value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgencyConfig(_Strict):
    company_id: str
    app_id: str
    client_id_env: str = "HIGHLEVEL_CLIENT_ID"
    client_secret_env: str = "HIGHLEVEL_CLIENT_SECRET"


class Defaults(_Strict):
    sync_config: str = ""


class LocationConfig(_Strict):
    id: str
    name: str = ""
    highlevel_token_env: str = Field(default="", description="Env var of a Private Integration Token; empty: agency")
    sendowl_key_env: str = ""
    sendowl_secret_env: str = ""
    sendapp_api_key_env: str = ""
    sendapp_channel_token_env: str = ""
    sendowl_webhook_secret_env: str = Field(
        default="", description="Env var of the shop's webhook signing secret (POST /webhooks/sendowl/<id>)"
    )
    sendapp_base_url: str = Field(default="", description="The SendApp account's API base; empty: the global one")
    sync_config: str = ""

    @model_validator(mode="after")
    def _check(self) -> LocationConfig:
        if not LOCATION_ID.match(self.id):
            raise ValueError(f"location id {self.id!r} must be 1-64 letters, digits, '-' or '_'")
        if bool(self.sendowl_key_env) != bool(self.sendowl_secret_env):
            raise ValueError("sendowl_key_env and sendowl_secret_env come together")
        return self


class LocationsFile(_Strict):
    data_dir: str = "data"
    agency: AgencyConfig | None = None
    defaults: Defaults = Defaults()
    locations: list[LocationConfig] = []

    @model_validator(mode="after")
    def _unique(self) -> LocationsFile:
        ids = [loc.id for loc in self.locations]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"locations listed twice: {dupes}")
        if self.agency is None and any(not loc.highlevel_token_env for loc in self.locations):
            raise ValueError("a location without highlevel_token_env needs an [agency] grant to mint its tokens")
        return self


def load_locations_file(path: Path) -> LocationsFile:
    """Read and validate the file; relative paths inside it are relative to the file's folder."""
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"locations file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"locations file {path}: {exc}") from exc
    base = path.parent
    try:
        parsed = LocationsFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"locations file {path}: {problems}") from exc

    def rebase(value: str) -> str:
        return str(base / value) if value and not Path(value).is_absolute() else value

    return parsed.model_copy(
        update={
            "data_dir": rebase(parsed.data_dir),
            "defaults": parsed.defaults.model_copy(update={"sync_config": rebase(parsed.defaults.sync_config)}),
            "locations": [loc.model_copy(update={"sync_config": rebase(loc.sync_config)}) for loc in parsed.locations],
        }
    )
