"""Fill the registry from the agency's Company grant: locations the app is installed on are added, uninstalled
ones paused, and locations paused because HighLevel called them inactive resumed once a token can be minted."""

from __future__ import annotations

from dataclasses import dataclass, field

from etl_project.platforms import errors
from etl_project.platforms.highlevel.agency import AgencyClient
from etl_project.tenants.resolve import Tenancy

INACTIVE_MARK = "not active"


@dataclass
class Discovery:
    listed: int = 0
    added: list[str] = field(default_factory=list)
    uninstalled: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)


def discover(tenancy: Tenancy, client: AgencyClient) -> Discovery:
    report = Discovery()
    registry = tenancy.registry
    known = {s.id: s for s in registry.all()}
    listed: set[str] = set()
    for location in client.installed_locations():
        report.listed += 1
        listed.add(location.id)
        if location.installed and registry.add(location.id, location.name, "agency"):
            report.added.append(location.id)
        was = known.get(location.id)
        if was is not None and was.installed != location.installed:
            registry.set_installed(location.id, location.installed)
            if not location.installed:
                report.uninstalled.append(location.id)
    # HighLevel has no location-deleted event: a discovered location no longer listed is gone.
    for state in known.values():
        if state.source == "agency" and state.id not in listed and state.installed:
            registry.set_installed(state.id, False)
            report.uninstalled.append(state.id)
    for state in registry.all():
        if not state.active and state.installed and INACTIVE_MARK in state.reason.lower():
            try:
                client.mint_location_token(state.id)
            except errors.PlatformError:
                continue  # still inactive
            if registry.resume(state.id, "HighLevel mints its token again"):
                report.resumed.append(state.id)
    return report
