"""The locations file, the registry and a location's access (no Dagster, no HTTP)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from etl_project.sync.config import ConfigError
from etl_project.tenants.config import load_locations_file
from etl_project.tenants.registry import UNINSTALLED_REASON, Registry
from etl_project.tenants.resolve import LocationPausedError, Tenancy, UnknownLocationError

FILE = """
data_dir = "shared"

[agency]
company_id = "comp-1"
app_id = "app-1"
client_id_env = "T_CLIENT_ID"
client_secret_env = "T_CLIENT_SECRET"

[defaults]
sync_config = "all.toml"

[[locations]]
id = "loc-a"
name = "Acme"
highlevel_token_env = "T_A_TOKEN"
sendowl_key_env = "T_A_SO_KEY"
sendowl_secret_env = "T_A_SO_SECRET"
sendapp_api_key_env = "T_A_SA_KEY"
sync_config = "/etc/acme.toml"

[[locations]]
id = "loc-b"
sendapp_api_key_env = "T_B_SA_KEY"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "locations.toml"
    path.write_text(text)
    return path


def test_the_file_is_validated_and_its_paths_are_relative_to_it(tmp_path: Path) -> None:
    parsed = load_locations_file(write(tmp_path, FILE))
    assert parsed.data_dir == str(tmp_path / "shared")
    assert parsed.defaults.sync_config == str(tmp_path / "all.toml")
    assert [loc.id for loc in parsed.locations] == ["loc-a", "loc-b"]
    assert parsed.locations[0].sync_config == "/etc/acme.toml"  # absolute stays


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[locations]]\nid = "a"\nhighlevel_token_env = "X"\n[[locations]]\nid = "a"\nhighlevel_token_env = "X"\n',
            "listed twice",
        ),
        ('[[locations]]\nid = "a/../b"\nhighlevel_token_env = "X"\n', "must be 1-64"),
        ('[[locations]]\nid = "a"\n', "needs an [agency]"),
        ('[[locations]]\nid = "a"\nhighlevel_token_env = "X"\nsendowl_key_env = "K"\n', "come together"),
        ('[[locations]]\nid = "a"\nhighlevel_token = "pit-secret"\n', "highlevel_token"),
        ("data_dir = [", "locations file"),
    ],
)
def test_a_bad_file_is_refused_naming_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_locations_file(write(tmp_path, text))


def test_registry_pauses_once_and_resumes(tmp_path: Path) -> None:
    check_pauses_once_and_resumes(Registry(tmp_path / "registry.sqlite"))


def test_an_uninstalled_location_pauses_and_comes_back_when_reinstalled(tmp_path: Path) -> None:
    check_uninstalled_and_reinstalled(Registry(tmp_path / "registry.sqlite"))


def check_pauses_once_and_resumes(registry: Registry) -> None:
    """The registry's rules, whichever database holds it (PostgreSQL: test_postgres_instance.py)."""
    assert registry.add("loc-a", "Acme", "file") and not registry.add("loc-a", "Acme Fitness", "file")
    assert registry.pause("loc-a", "HighLevel refused the credentials")
    assert not registry.pause("loc-a", "again")  # told once
    state = registry.get("loc-a")
    assert state is not None and not state.active and state.reason == "HighLevel refused the credentials"
    assert state.name == "Acme Fitness"
    assert registry.resume("loc-a") and registry.get("loc-a").active  # type: ignore[union-attr]
    assert [e[2] for e in registry.events("loc-a")] == ["added", "paused", "resumed"]


def check_uninstalled_and_reinstalled(registry: Registry) -> None:
    registry.add("loc-a", "", "agency")
    registry.set_installed("loc-a", False)
    assert registry.get("loc-a").reason == UNINSTALLED_REASON  # type: ignore[union-attr]
    registry.set_installed("loc-a", True)
    assert registry.get("loc-a").active  # type: ignore[union-attr]
    # paused for another reason: reinstalling does not resume it
    registry.pause("loc-a", "SendOwl refused the credentials")
    registry.set_installed("loc-a", False)
    registry.set_installed("loc-a", True)
    assert not registry.get("loc-a").active  # type: ignore[union-attr]


def test_access_reads_the_named_secrets_and_places_each_location_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"T_A_TOKEN": "pit-a", "T_A_SO_KEY": "k", "T_A_SO_SECRET": "s", "T_A_SA_KEY": "sa"}.items():
        monkeypatch.setenv(name, value)
    tenants = Tenancy(write(tmp_path, FILE))
    a = tenants.access("loc-a")
    assert (a.highlevel_token, a.sendowl_key, a.sendapp_api_key) == ("pit-a", "k", "sa")
    assert a.warehouse_path == tmp_path / "shared" / "locations" / "loc-a" / "etl.duckdb"
    assert "pit-a" not in repr(a) and "sa" not in repr(a).replace("sendapp", "")
    with pytest.raises(KeyError, match="T_B_SA_KEY"):  # named but unset: a clear error, not an empty key
        tenants.access("loc-b")
    monkeypatch.setenv("T_B_SA_KEY", "sb")
    b = tenants.access("loc-b")
    assert b.highlevel_token is None and not b.has_sendowl and b.sync_config == str(tmp_path / "all.toml")
    assert a.warehouse_path.parent != b.warehouse_path.parent
    with pytest.raises(UnknownLocationError):
        tenants.access("loc-z")
    tenants.registry.pause("loc-a", "HighLevel refused the credentials: Invalid token")
    with pytest.raises(LocationPausedError, match="Invalid token"):
        tenants.usable("loc-a")
    assert tenants.active_ids() == ["loc-b"]


def test_the_registry_file_is_created_beside_the_data(tmp_path: Path) -> None:
    tenants = Tenancy(write(tmp_path, FILE))
    assert tenants.registry.path == tmp_path / "shared" / "registry.sqlite"
    assert stat.S_ISREG(tenants.registry.path.stat().st_mode)


def test_the_cli_lists_pauses_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from etl_project.tenants.__main__ import main

    monkeypatch.setenv("ETL_LOCATIONS_FILE", str(write(tmp_path, FILE)))
    assert main(["pause", "loc-a", "SendOwl key rotated"]) == 0
    assert main(["list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "loc-a\tpaused\tfile\tAcme\tSendOwl key rotated" in listed and any(
        r.startswith("loc-b\tactive") for r in listed
    )
    assert main(["resume", "loc-a"]) == 0 and "resumed" in capsys.readouterr().out
    monkeypatch.delenv("ETL_LOCATIONS_FILE")
    with pytest.raises(SystemExit, match="ETL_LOCATIONS_FILE is not set"):
        main(["list"])
