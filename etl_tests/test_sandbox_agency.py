"""HighLevel's agency (Company) access on the sandbox, over real HTTP: the Company token, the locations the app is
installed on, location tokens minted from it, and what suspending, uninstalling, revoking and expiring do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from etl_project.sandbox.highlevel.agency import AUTH_CLASS
from etl_project.sandbox.server import Sandbox, SandboxConfig
from etl_project.sandbox.webhooks import SANDBOX_APP_ID

COMPANY = "comp-sandbox-0001"
CLIENT = {"client_id": "sandbox-client-id", "client_secret": "sandbox-client-secret"}
VERSION = {"Version": "2021-07-28"}


@pytest.fixture
def agency() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(contacts=12, seed=7, rate_limits="off", locations=3)) as sb:
        yield sb


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **VERSION}


def company_tokens(url: str) -> dict[str, Any]:
    code = httpx.post(f"{url}/_sandbox/oauth/code", params={"user_type": "Company"}).json()["code"]
    answer = httpx.post(f"{url}/oauth/token", data={**CLIENT, "grant_type": "authorization_code", "code": code})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def installed(url: str, token: str, **params: Any) -> httpx.Response:
    query = {"companyId": COMPANY, "appId": SANDBOX_APP_ID, **params}
    return httpx.get(f"{url}/oauth/installedLocations", params=query, headers=bearer(token))


def mint(url: str, token: str, location_id: str) -> httpx.Response:
    form = {"companyId": COMPANY, "locationId": location_id}
    return httpx.post(f"{url}/oauth/locationToken", data=form, headers=bearer(token))


def search(url: str, token: str, location_id: str) -> httpx.Response:
    return httpx.post(f"{url}/contacts/search", json={"locationId": location_id}, headers=bearer(token))


def admin(url: str, location_id: str, action: str) -> dict[str, Any]:
    answer = httpx.post(f"{url}/_sandbox/locations/{location_id}/{action}")
    answer.raise_for_status()
    return dict(answer.json())


def test_company_token_lists_locations_and_mints_location_tokens(agency: Sandbox) -> None:
    url = agency.base_url("highlevel")
    tokens = company_tokens(url)
    assert tokens["userType"] == "Company" and tokens["companyId"] == COMPANY and tokens["isBulkInstallation"] is True
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 86399 and tokens["refresh_token"]
    company = tokens["access_token"]
    pages = [installed(url, company, limit=2, skip=skip).json() for skip in (0, 2, 4)]
    listed = [loc["_id"] for page in pages for loc in page["locations"]]
    assert listed == [a.location_id for a in agency.location_accounts()] and pages[0]["count"] == 3
    assert set(pages[0]["locations"][0]) == {"_id", "name", "address", "isInstalled"}
    assert pages[0]["installToFutureLocations"] is True
    assert len(installed(url, company).json()["locations"]) == 3  # default limit 20
    assert installed(url, company, companyId="comp-other").status_code == 403
    assert httpx.get(f"{url}/oauth/installedLocations", params={"companyId": COMPANY}).status_code == 401
    no_version = httpx.get(
        f"{url}/oauth/installedLocations",
        params={"companyId": COMPANY, "appId": SANDBOX_APP_ID},
        headers={"Authorization": f"Bearer {company}"},
    )
    assert no_version.status_code == 400
    pit = agency.location_accounts()[0].highlevel_token
    assert installed(url, pit).status_code == 401  # a location's token cannot list the agency's locations

    third = agency.location_accounts()[2].location_id
    minted = mint(url, company, third)
    assert minted.status_code == 200
    body = minted.json()
    assert body["userType"] == "Location" and body["locationId"] == third and body["token_type"] == "Bearer"
    assert body["expires_in"] == 86399 and "refresh_token" not in body and body["userId"]
    found = search(url, body["access_token"], third)
    assert found.status_code == 200 and found.json()["total"] == 12
    assert search(url, body["access_token"], agency.location_accounts()[0].location_id).status_code == 403
    assert mint(url, company, "loc-nowhere").status_code == 400
    assert mint(url, pit, third).status_code == 401


def test_company_token_cannot_call_location_endpoints(agency: Sandbox) -> None:
    url = agency.base_url("highlevel")
    company = company_tokens(url)["access_token"]
    refused = search(url, company, agency.location_accounts()[0].location_id)
    assert refused.status_code == 401 and refused.json()["message"] == AUTH_CLASS
    assert httpx.get(f"{url}/contacts/any-id", headers=bearer(company)).status_code == 401


def test_refresh_tokens_rotate_for_the_company(agency: Sandbox) -> None:
    url = agency.base_url("highlevel")
    first = company_tokens(url)
    refresh = {**CLIENT, "grant_type": "refresh_token", "refresh_token": first["refresh_token"], "user_type": "Company"}
    second = httpx.post(f"{url}/oauth/token", data=refresh)
    assert second.status_code == 200 and second.json()["userType"] == "Company"
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert httpx.post(f"{url}/oauth/token", data=refresh).status_code == 401  # used once already
    assert installed(url, second.json()["access_token"]).status_code == 200
    location_code = httpx.post(f"{url}/_sandbox/oauth/code").json()["code"]  # no parameter: location 0's consent
    mixed = {**CLIENT, "grant_type": "authorization_code", "code": location_code, "user_type": "Company"}
    assert httpx.post(f"{url}/oauth/token", data=mixed).status_code == 400


def test_a_suspended_location_cannot_be_minted_and_its_tokens_stop(agency: Sandbox) -> None:
    url = agency.base_url("highlevel")
    company = company_tokens(url)["access_token"]
    second = agency.location_accounts()[1]
    token = mint(url, company, second.location_id).json()["access_token"]
    code = httpx.post(f"{url}/_sandbox/oauth/code", params={"location": second.location_id}).json()["code"]
    own = httpx.post(f"{url}/oauth/token", data={**CLIENT, "grant_type": "authorization_code", "code": code}).json()
    assert own["userType"] == "Location" and own["locationId"] == second.location_id
    assert admin(url, second.location_id, "deactivate")["isActive"] is False
    refresh = {**CLIENT, "grant_type": "refresh_token", "refresh_token": own["refresh_token"]}
    suspended = httpx.post(f"{url}/oauth/token", data=refresh)
    assert suspended.status_code == 400 and suspended.json()["message"] == "Location is not active"
    refused = mint(url, company, second.location_id)
    assert refused.status_code == 400 and refused.json()["message"] == "Location is not active"
    assert search(url, token, second.location_id).status_code == 401
    assert search(url, second.highlevel_token, second.location_id).status_code == 401
    first = agency.location_accounts()[0]
    assert search(url, first.highlevel_token, first.location_id).status_code == 200  # the others go on
    admin(url, second.location_id, "activate")
    assert search(url, token, second.location_id).status_code == 200
    assert httpx.post(f"{url}/oauth/token", data=refresh).status_code == 200  # the refused refresh kept its token


def test_uninstall_install_and_revoke(agency: Sandbox) -> None:
    url = agency.base_url("highlevel")
    company = company_tokens(url)["access_token"]
    second, third = agency.location_accounts()[1:]
    token = mint(url, company, second.location_id).json()["access_token"]
    assert admin(url, second.location_id, "uninstall")["revoked"] == 1
    assert search(url, token, second.location_id).status_code == 401
    refused = mint(url, company, second.location_id)
    assert refused.status_code == 400 and "not installed" in refused.json()["message"]
    flags = {loc["_id"]: loc["isInstalled"] for loc in installed(url, company).json()["locations"]}
    assert flags[second.location_id] is False and flags[third.location_id] is True
    only_installed = [loc["_id"] for loc in installed(url, company, isInstalled="true").json()["locations"]]
    assert only_installed == [agency.location_accounts()[0].location_id, third.location_id]
    admin(url, second.location_id, "install")
    again = mint(url, company, second.location_id).json()["access_token"]
    assert search(url, again, second.location_id).status_code == 200
    admin(url, third.location_id, "revoke")
    revoked = search(url, third.highlevel_token, third.location_id)
    assert revoked.status_code == 401 and revoked.json()["message"].startswith("Invalid token")


def test_a_location_added_at_runtime_is_listed_and_served(agency: Sandbox) -> None:
    url = agency.base_url("highlevel")
    company = company_tokens(url)["access_token"]
    added = httpx.post(f"{url}/_sandbox/locations", json={"contacts": 5, "name": "New Client"})
    assert added.status_code == 201
    body = added.json()
    assert body["locationId"] == "loc-sandbox-0004" and body["token"] == "pit-sandbox-token-0004"
    new = "loc-sandbox-0004"
    listed = installed(url, company).json()
    assert (
        listed["count"] == 4 and listed["locations"][3]["_id"] == new and listed["locations"][3]["name"] == "New Client"
    )
    assert search(url, body["token"], new).json()["total"] == 5
    minted = mint(url, company, new).json()["access_token"]
    assert search(url, minted, new).json()["total"] == 5
    account = agency.location_accounts()[3]
    assert body["account"]["sendowl_key"] == account.sendowl_key == "sandbox-sendowl-key-0004"
    orders = httpx.get(
        f"{agency.base_url('sendowl')}/api/v1_3/orders",
        auth=(account.sendowl_key, account.sendowl_secret),
        headers={"Accept": "application/json"},
    )
    assert orders.status_code == 200 and orders.json()
    listing = httpx.get(f"{url}/_sandbox/locations").json()
    assert [loc["locationId"] for loc in listing["locations"]][-1] == new


def test_expired_tokens_answer_401_until_reminted(agency: Sandbox) -> None:
    url = agency.base_url("highlevel")
    tokens = company_tokens(url)
    first = agency.location_accounts()[0]
    minted = mint(url, tokens["access_token"], first.location_id).json()["access_token"]
    expired = httpx.post(f"{url}/_sandbox/oauth/expire").json()["expired"]
    assert expired == 2
    assert search(url, minted, first.location_id).status_code == 401
    assert installed(url, tokens["access_token"]).status_code == 401
    assert search(url, first.highlevel_token, first.location_id).status_code == 200  # a PIT does not expire
    refresh = {**CLIENT, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    company = httpx.post(f"{url}/oauth/token", data=refresh).json()["access_token"]
    again = mint(url, company, first.location_id).json()["access_token"]
    assert search(url, again, first.location_id).status_code == 200
    httpx.post(f"{url}/_sandbox/locations/{first.location_id}/settings", json={"access_token_ttl": 0})
    short = mint(url, company, first.location_id).json()
    assert short["expires_in"] == 0 and search(url, short["access_token"], first.location_id).status_code == 401


def test_company_calls_spend_the_companys_budget(agency: Sandbox) -> None:
    url = agency.base_url("highlevel")
    company = company_tokens(url)["access_token"]
    limits = {"enabled": True, "burst_max": 2, "interval_ms": 60_000}
    httpx.post(f"{url}/_sandbox/rate-limits", params={"location": COMPANY}, json=limits).raise_for_status()
    httpx.post(f"{url}/_sandbox/rate-limits", params={"location": "all"}, json=limits).raise_for_status()
    assert [installed(url, company).status_code for _ in range(3)] == [200, 200, 429]
    first = agency.location_accounts()[0]
    token = agency.location_accounts()[0].highlevel_token
    answer = search(url, token, first.location_id)
    assert answer.status_code == 200 and answer.headers["X-RateLimit-Remaining"] == "1"
    stats = httpx.get(f"{url}/_sandbox/stats", params={"location": COMPANY}).json()
    assert stats["rate_limited"] == 1 and stats["by_route"]["GET /oauth/installedLocations"] == 3
