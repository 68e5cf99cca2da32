"""`python -m etl_project.tenants COMMAND`: the locations of a many-location deployment (ETL_LOCATIONS_FILE).

list                        every location, its status and why it is paused
pause ID REASON             stop syncing a location
resume ID                   sync it again (after its credentials were fixed)
authorize-agency --code C   trade the agency's authorisation code for the Company token pair
discover                    list the agency's installed locations into the registry now
"""

from __future__ import annotations

import argparse
import sys

import httpx

from etl_project import settings
from etl_project.platforms.highlevel.agency import agency_client, exchange_code
from etl_project.platforms.highlevel.auth import TokenStore
from etl_project.platforms.http import tls_context
from etl_project.tenants.discovery import discover
from etl_project.tenants.resolve import Tenancy, tenancy


def _tenancy() -> Tenancy:
    path = settings.locations_file()
    if not path:
        sys.exit("ETL_LOCATIONS_FILE is not set: this deployment syncs one location (docs/agencies.md)")
    return tenancy(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl_project.tenants", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list")
    pause = commands.add_parser("pause")
    pause.add_argument("location_id")
    pause.add_argument("reason")
    resume = commands.add_parser("resume")
    resume.add_argument("location_id")
    authorize = commands.add_parser("authorize-agency")
    authorize.add_argument("--code", required=True)
    commands.add_parser("discover")
    args = parser.parse_args(argv)
    tenants = _tenancy()
    if args.command == "list":
        for s in tenants.registry.all():
            print(f"{s.id}\t{s.status}\t{s.source}\t{s.name}\t{s.reason}")
    elif args.command == "pause":
        print("paused" if tenants.registry.pause(args.location_id, args.reason) else "not active: unchanged")
    elif args.command == "resume":
        print("resumed" if tenants.registry.resume(args.location_id, "by hand") else "not paused: unchanged")
    elif args.command == "authorize-agency":
        client_id, client_secret = tenants.agency_secrets()
        with httpx.Client(base_url=settings.highlevel_base_url(), verify=tls_context(), timeout=30) as http:
            tokens, grant = exchange_code(http, client_id, client_secret, args.code)
        TokenStore(tenants.company_token_path).save(tokens)
        print(f"Company grant stored for {grant.get('companyId', '?')} in {tenants.company_token_path}")
    elif args.command == "discover":
        assert tenants.agency is not None, "no [agency] in the locations file"
        client_id, client_secret = tenants.agency_secrets()
        a = tenants.agency
        path = tenants.company_token_path
        with agency_client(settings.highlevel_base_url(), client_id, client_secret, path, a.company_id, a.app_id) as c:
            found = discover(tenants, c)
        print(f"listed {found.listed}; added {found.added}; uninstalled {found.uninstalled}; resumed {found.resumed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
