"""`python -m etl_project.sandbox`: serve the platform stand-ins on loopback until interrupted.

Every flag has an environment override (shown in --help), so Makefiles and CI can configure it without flags.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from types import FrameType

from etl_project.sandbox.highlevel.store import HighLevelSettings
from etl_project.sandbox.sendapp.store import SendAppSettings
from etl_project.sandbox.sendowl.store import SendOwlSettings
from etl_project.sandbox.server import DEFAULT_PORTS, Sandbox, SandboxConfig


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def parse_args(argv: list[str] | None = None) -> SandboxConfig:
    p = argparse.ArgumentParser(prog="python -m etl_project.sandbox", description=__doc__)
    p.add_argument("--host", default=_env("SANDBOX_HOST", "127.0.0.1"), help="env SANDBOX_HOST")
    for name, port in DEFAULT_PORTS.items():
        env = f"SANDBOX_{name.upper()}_PORT"
        p.add_argument(f"--{name}-port", type=int, default=int(_env(env, str(port))), help=f"env {env} (0 = any)")
    p.add_argument(
        "--contacts",
        type=int,
        default=int(_env("SANDBOX_CONTACTS", "300")),
        help="seeded HighLevel contacts; the other platforms overlap them (env SANDBOX_CONTACTS)",
    )
    p.add_argument(
        "--locations",
        type=int,
        default=int(_env("SANDBOX_LOCATIONS", "1")),
        help="HighLevel locations of the agency, each with its own SendOwl and SendApp account (env SANDBOX_LOCATIONS)",
    )
    p.add_argument("--seed", type=int, default=int(_env("SANDBOX_SEED", "42")), help="env SANDBOX_SEED")
    p.add_argument(
        "--rate-limits",
        choices=("real", "off"),
        default=_env("SANDBOX_RATE_LIMITS", "real"),
        help="env SANDBOX_RATE_LIMITS",
    )
    p.add_argument(
        "--error-rate",
        type=float,
        default=float(_env("SANDBOX_ERROR_RATE", "0")),
        help="share of API requests answered 503 (env SANDBOX_ERROR_RATE)",
    )
    p.add_argument(
        "--latency-ms",
        type=int,
        default=int(_env("SANDBOX_LATENCY_MS", "0")),
        help="added latency per request (env SANDBOX_LATENCY_MS)",
    )
    for name in ("highlevel", "sendowl"):
        env = f"SANDBOX_{name.upper()}_WEBHOOK_URL"
        p.add_argument(
            f"--{name}-webhook-url",
            default=_env(env, ""),
            help=f"where the stand-in delivers its signed webhooks; empty: none (env {env})",
        )
    a = p.parse_args(argv)
    hl = HighLevelSettings()
    hl.token = _env("SANDBOX_HIGHLEVEL_TOKEN", hl.token)
    hl.location_id = _env("SANDBOX_HIGHLEVEL_LOCATION_ID", hl.location_id)
    sendowl = SendOwlSettings()
    sendowl.key = _env("SANDBOX_SENDOWL_KEY", sendowl.key)
    sendowl.secret = _env("SANDBOX_SENDOWL_SECRET", sendowl.secret)
    sendowl.updated_after_supported = _env("SANDBOX_SENDOWL_UPDATED_AFTER", "on") == "on"
    sendapp = SendAppSettings()
    sendapp.api_key = _env("SANDBOX_SENDAPP_API_KEY", sendapp.api_key)
    return SandboxConfig(
        host=a.host,
        highlevel_port=a.highlevel_port,
        sendowl_port=a.sendowl_port,
        sendapp_port=a.sendapp_port,
        sendowl=sendowl,
        contacts=a.contacts,
        locations=a.locations,
        seed=a.seed,
        rate_limits=a.rate_limits,
        error_rate=a.error_rate,
        latency_ms=a.latency_ms,
        highlevel=hl,
        sendapp=sendapp,
        highlevel_webhook_url=a.highlevel_webhook_url,
        sendowl_webhook_url=a.sendowl_webhook_url,
    )


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    stopped: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopped.append(signum)

    signal.signal(signal.SIGTERM, on_signal)  # before the banner: whoever reads it may stop us at once
    signal.signal(signal.SIGINT, on_signal)
    sandbox = Sandbox(config).start()
    hl = config.highlevel
    print(f"HighLevel sandbox  {sandbox.base_url('highlevel')}")
    print(f"  HIGHLEVEL_BASE_URL={sandbox.base_url('highlevel')}")
    print(f"  HIGHLEVEL_TOKEN={hl.token}   HIGHLEVEL_LOCATION_ID={hl.location_id}")
    print(f"  OAuth client: HIGHLEVEL_CLIENT_ID={hl.client_id} HIGHLEVEL_CLIENT_SECRET={hl.client_secret}")
    keys = sandbox.webhook_keys()
    print(f"  webhooks to: {config.highlevel_webhook_url or '(none; POST /_sandbox/webhooks to set)'}")
    print(f"  HIGHLEVEL_WEBHOOK_PUBLIC_KEYS={keys['public_key']}   HIGHLEVEL_LOCATION_IDS={hl.location_id}")
    print(f"  HIGHLEVEL_WEBHOOK_RSA_PUBLIC_KEYS={keys['rsa_public_key']}")
    so = config.sendowl
    print(f"SendOwl sandbox    {sandbox.api_url('sendowl')}")
    print(f"  SENDOWL_BASE_URL={sandbox.api_url('sendowl')}")
    print(f"  SENDOWL_KEY={so.key}   SENDOWL_SECRET={so.secret}   updated_after: {so.updated_after_supported}")
    print(f"  webhooks to: {config.sendowl_webhook_url or '(none)'}   SENDOWL_WEBHOOK_SECRET={so.secret}")
    sa = config.sendapp
    print(f"SendApp sandbox    {sandbox.api_url('sendapp')}")
    print(f"  SENDAPP_BASE_URL={sandbox.api_url('sendapp')}")
    print(f"  SENDAPP_API_KEY={sa.api_key}   SENDAPP_CHANNEL_TOKEN={sa.channel_token}")
    # The other locations without `NAME=value` words: readers of the banner take those as location 0's settings.
    for a in sandbox.location_accounts()[1:]:
        print(f"Location {a.location_id} ({a.name}): HighLevel token {a.highlevel_token}")
        print(f"  SendOwl key {a.sendowl_key} secret {a.sendowl_secret}")
        print(f"  SendApp key {a.sendapp_api_key} channel token {a.sendapp_channel_token}")
    agency = sandbox.agency.settings
    print(f"Agency: companyId={agency.company_id} appId={agency.app_id} (GET /_sandbox/locations lists every location)")
    sizes = f"seed={config.seed} contacts={config.contacts} locations={config.locations}"
    print(f"  {sizes} rate-limits={config.rate_limits}", flush=True)
    while not stopped:  # a plain flag: a handler taking a lock the interrupted main thread holds would deadlock
        time.sleep(0.2)
    sandbox.stop()
    print("sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
