"""From a location id to what a run for it needs: credentials (read from the environment variables the locations
file names), the location's own data folder (warehouse, minted tokens) and its sync config."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from etl_project import settings
from etl_project.tenants.config import AgencyConfig, LocationConfig, LocationsFile, load_locations_file
from etl_project.tenants.registry import LocationState, open_registry


class UnknownLocationError(LookupError):
    """The location is neither in the locations file nor discovered from the agency."""


class LocationPausedError(RuntimeError):
    """The location is paused (its access was lost); a person resumes it once fixed."""


@dataclass(frozen=True)
class LocationAccess:
    id: str
    name: str
    folder: Path
    sync_config: str
    highlevel_token: str | None = field(default=None, repr=False)  # a PIT; None: minted from the agency grant
    sendowl_key: str | None = field(default=None, repr=False)
    sendowl_secret: str | None = field(default=None, repr=False)
    sendapp_api_key: str | None = field(default=None, repr=False)
    sendapp_channel_token: str | None = field(default=None, repr=False)
    sendapp_base_url: str = ""

    @property
    def warehouse_path(self) -> Path:
        return self.folder / "etl.duckdb"

    @property
    def token_path(self) -> Path:
        """Where this location's minted HighLevel token lives (mode 0600)."""
        return self.folder / "highlevel_token.json"

    @property
    def has_sendowl(self) -> bool:
        return self.sendowl_key is not None

    @property
    def has_sendapp(self) -> bool:
        return self.sendapp_api_key is not None


class Tenancy:
    """One locations file: its listed locations, the registry beside the data, and each location's access."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: LocationsFile = load_locations_file(path)
        self.data_dir = Path(self.file.data_dir)
        self.registry = open_registry(self.data_dir)
        self._listed = {loc.id: loc for loc in self.file.locations}
        for loc in self.file.locations:
            self.registry.add(loc.id, loc.name, "file")

    @property
    def agency(self) -> AgencyConfig | None:
        return self.file.agency

    @property
    def company_token_path(self) -> Path:
        return self.data_dir / "agency" / "company_tokens.json"

    def location_folder(self, location_id: str) -> Path:
        return self.data_dir / "locations" / location_id

    def listed_ids(self) -> list[str]:
        """The locations the file lists (only these can have SendOwl or SendApp accounts)."""
        return list(self._listed)

    def active_ids(self) -> list[str]:
        return [s.id for s in self.registry.all() if s.active]

    def access(self, location_id: str, state: LocationState | None = None) -> LocationAccess:
        state = state or self.registry.get(location_id)
        if state is None:
            raise UnknownLocationError(f"location {location_id} is not in {self.path} nor discovered from the agency")
        listed = self._listed.get(location_id) or LocationConfig(id=location_id, name=state.name)
        owner = f"location {location_id} in {self.path}"

        def secret(name: str) -> str | None:
            return settings.named_secret(name, owner) if name else None

        return LocationAccess(
            id=location_id,
            name=listed.name or state.name,
            folder=self.location_folder(location_id),
            sync_config=listed.sync_config or self.file.defaults.sync_config,
            highlevel_token=secret(listed.highlevel_token_env),
            sendowl_key=secret(listed.sendowl_key_env),
            sendowl_secret=secret(listed.sendowl_secret_env),
            sendapp_api_key=secret(listed.sendapp_api_key_env),
            sendapp_channel_token=secret(listed.sendapp_channel_token_env),
            sendapp_base_url=listed.sendapp_base_url,
        )

    def sendowl_webhook_secret(self, location_id: str) -> str | None:
        """The secret that signs the SendOwl deliveries of a listed location's shop; None: not listed, or no secret
        named (the receiver reads only this, not the location's API credentials)."""
        listed = self._listed.get(location_id)
        if listed is None or not listed.sendowl_webhook_secret_env:
            return None
        return os.environ.get(listed.sendowl_webhook_secret_env) or None

    def usable(self, location_id: str) -> LocationAccess:
        """The location's access for a run; an error naming the reason if it is paused."""
        state = self.registry.get(location_id)
        if state is not None and not state.active:
            raise LocationPausedError(f"location {location_id} is paused: {state.reason}")
        return self.access(location_id, state)

    def agency_secrets(self) -> tuple[str, str]:
        if self.agency is None:
            raise UnknownLocationError(f"{self.path} has no [agency] grant")
        owner = f"[agency] in {self.path}"
        return (
            settings.named_secret(self.agency.client_id_env, owner),
            settings.named_secret(self.agency.client_secret_env, owner),
        )


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Tenancy:
    return Tenancy(Path(path))


def tenancy(path: str) -> Tenancy:
    """The tenancy of a locations file, re-read when the file changes."""
    return _load(path, os.stat(path).st_mtime)
