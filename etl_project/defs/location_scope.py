"""Which location a run is for: the `etl/location` run tag, resolved against the locations file by every resource
of a many-location deployment (one-location set-ups have no file and no tag, and keep their configured values)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Self

import dagster as dg
from pydantic import Field, PrivateAttr

from etl_project import settings
from etl_project.platforms.errors import AuthenticationError
from etl_project.sync.config import SyncConfig
from etl_project.tenants.resolve import LocationAccess, Tenancy, tenancy

LOCATION_TAG = "etl/location"


def location_tag(location_id: str | None) -> dict[str, str]:
    """The run tags that scope a run to one location (none in the one-location set-up)."""
    return {LOCATION_TAG: location_id} if location_id else {}


class LocationScoped(dg.ConfigurableResource):
    """A resource that, in a many-location deployment, serves the location named by the run's `etl/location` tag."""

    locations_file: str = Field(
        default="",
        description="The locations file of a many-location deployment (docs/agencies.md); empty: one "
        "location, configured on this resource.",
    )
    _location_id: str | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.dagster_run
        if self.locations_file and run is not None:
            self._location_id = run.tags.get(LOCATION_TAG)

    def for_location(self, location_id: str) -> Self:
        """This resource bound to one location outside a run (sensors)."""
        bound = self.model_copy()
        bound._location_id = location_id
        return bound

    def run_location(self) -> tuple[LocationAccess, Tenancy]:
        """The run's location (raises a clear error when it is missing, unknown or paused)."""
        if not self._location_id:
            raise dg.DagsterInvariantViolationError(
                f"this deployment syncs many locations ({self.locations_file}): launch the run with the tag "
                f"{LOCATION_TAG}=<location id> (the `locations` asset lists them)"
            )
        tenants = tenancy(self.locations_file)
        return tenants.usable(self._location_id), tenants

    def refusal_handler(self, platform: str) -> Callable[[AuthenticationError], None] | None:
        """Pauses the run's location when a platform refuses its credentials for good (after refreshes): a person
        must fix them, and the other locations carry on."""
        if not self.locations_file or not self._location_id:
            return None
        tenants, location_id = tenancy(self.locations_file), self._location_id

        def pause(exc: AuthenticationError) -> None:
            tenants.registry.pause(location_id, f"{platform} refused the credentials: {exc.message}")

        return pause


# The flows each platform takes part in: switched off for a location without an account there.
FLOWS_NEEDING = {
    "sendowl": ("sendowl_purchases_to_highlevel", "welcome_message"),
    "sendapp": (
        "highlevel_contacts_to_sendapp",
        "sendapp_contacts_to_highlevel",
        "highlevel_tasks_to_sendapp",
        "highlevel_activity_to_sendapp",
        "welcome_message",
    ),
}


def without_absent_platforms(config: SyncConfig, access: LocationAccess) -> SyncConfig:
    """The location's config with the flows its missing accounts cannot serve switched off."""
    absent = [p for p, has in (("sendowl", access.has_sendowl), ("sendapp", access.has_sendapp)) if not has]
    if not absent:
        return config
    off = {flow: False for platform in absent for flow in FLOWS_NEEDING[platform]}
    return config.model_copy(update={"flows": config.flows.model_copy(update=off)})


def bind_to_run(resource: Any, tags: Mapping[str, str]) -> Any:
    """`resource` bound to the location a finished run was for (sensors reading that run's warehouse)."""
    location = tags.get(LOCATION_TAG)
    if isinstance(resource, LocationScoped) and resource.locations_file and location:
        return resource.for_location(location)
    return resource


def for_each_location(make: Callable[[str | None], dg.RunRequest]) -> list[dg.RunRequest]:
    """One run request per active location of a many-location deployment (`make(location_id)` adds what else
    it needs); one request for `None` in the one-location set-up."""
    path = settings.locations_file()
    if not path:
        return [make(None)]
    return [make(location_id) for location_id in tenancy(path).active_ids()]
