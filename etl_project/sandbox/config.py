"""What a sandbox serves: ports, seeded data, limits, faults, and how many locations (agency sub-accounts)."""

from __future__ import annotations

from dataclasses import dataclass, field

from etl_project.sandbox.highlevel.store import HighLevelSettings
from etl_project.sandbox.sendapp.store import SendAppSettings
from etl_project.sandbox.sendowl.store import SendOwlSettings


@dataclass
class SandboxConfig:
    host: str = "127.0.0.1"
    highlevel_port: int = 0  # 0: any free port
    contacts: int = 300  # per location
    seed: int = 42
    rate_limits: str = "real"  # real | off
    error_rate: float = 0.0
    latency_ms: int = 0
    sendowl_port: int = 0
    sendapp_port: int = 0
    # HighLevel locations of the agency, each with its own SendOwl and SendApp account (see `sandbox/locations.py`);
    # location 0 uses the settings below, the others derive theirs from them.
    locations: int = 1
    highlevel: HighLevelSettings = field(default_factory=HighLevelSettings)
    sendowl: SendOwlSettings = field(default_factory=SendOwlSettings)
    sendapp: SendAppSettings = field(default_factory=SendAppSettings)
    # Where HighLevel's and SendOwl's stand-ins deliver their signed webhooks (empty: none are sent); also
    # settable while running through `POST /_sandbox/webhooks`. HighLevel's URL is the app's, shared by every
    # location. SendOwl's is each account's own: with `{location_id}` in it, every location's shop delivers to
    # its path (the receiver's /webhooks/sendowl/<location id>); without, only location 0's shop delivers.
    highlevel_webhook_url: str = ""
    sendowl_webhook_url: str = ""

    @property
    def limits_on(self) -> bool:
        return self.rate_limits == "real"
