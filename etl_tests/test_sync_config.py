"""A config that extends the shipped default: only what differs is stated, the result is validated as a whole."""

from __future__ import annotations

from importlib import resources as pkg
from pathlib import Path

import pytest

from etl_project.sync.config import ConfigError, load_config, merged, parse_config
from etl_project.sync.sources import PAYLOAD_FIELDS

SHIPPED = pkg.files("etl_project.sync")


def test_an_extending_file_overrides_one_key_and_keeps_the_rest() -> None:
    default = load_config()
    config = parse_config('extends = "default"\ndry_run = true\n')
    assert config.dry_run is True and default.dry_run is False
    assert config.model_copy(update={"dry_run": False}) == default


def test_a_nested_table_is_overridden_in_part() -> None:
    default = load_config()
    text = 'extends = "default"\n[thresholds]\nmin_records_for_share = 7\n[targets.sendapp]\nmode = "mirror"\n'
    config = parse_config(text)
    assert config.thresholds.min_records_for_share == 7
    assert config.thresholds.max_update_share == default.thresholds.max_update_share
    assert config.targets["sendapp"].mode == "mirror"
    assert config.targets["sendapp"].deletes == default.targets["sendapp"].deletes
    assert config.targets["sendapp"].fields == default.targets["sendapp"].fields
    assert config.targets["highlevel"] == default.targets["highlevel"]
    assert config.merge == default.merge
    # A key of a per-field table is laid over the default's table too (`source` is kept, unused by lww).
    assert parse_config('extends = "default"\n[merge.email]\nstrategy = "lww"\n').merge["email"].strategy == "lww"


def test_an_extending_file_still_rejects_unknown_keys_and_values() -> None:
    with pytest.raises(ConfigError, match=r"flows\.welcome_mesage"):
        parse_config('extends = "default"\n[flows]\nwelcome_mesage = true\n')
    with pytest.raises(ConfigError, match=r"thresholds\.max_update_share"):
        parse_config('extends = "default"\n[thresholds]\nmax_update_share = 2\n')
    with pytest.raises(ConfigError, match=r"extends"):
        parse_config('extends = "all_flows"\n')


def test_merge_rules() -> None:
    base = {"a": 1, "t": {"x": 1, "y": [1, 2], "deep": {"k": 1, "j": 2}}}
    over = {"b": 2, "t": {"y": [3], "deep": {"j": 9}}}
    assert merged(base, over) == {"a": 1, "b": 2, "t": {"x": 1, "y": [3], "deep": {"k": 1, "j": 9}}}
    assert base["t"]["deep"] == {"k": 1, "j": 2}, "the base is not changed"


def test_a_file_without_extends_is_the_whole_config() -> None:
    config = parse_config("[flows]\nwelcome_message = true\n")
    assert config.targets == {} and config.merge == {}, "nothing of the shipped default is filled in"


def test_the_demo_config_is_the_default_with_every_flow_on(tmp_path: Path) -> None:
    default = load_config()
    demo = load_config(str(SHIPPED.joinpath("all_flows_sync.toml")))
    assert all(demo.flows.model_dump().values())
    assert demo.thresholds.min_records_for_share == 10
    unchanged = {"flows": default.flows, "thresholds": demo.thresholds.model_copy(update={"min_records_for_share": 20})}
    assert demo.model_copy(update=unchanged) == default
    # Extending is by name: a copy elsewhere still finds the shipped default.
    copy = tmp_path / "mine.toml"
    copy.write_text(SHIPPED.joinpath("all_flows_sync.toml").read_text())
    assert load_config(copy) == demo


def test_a_target_without_fields_writes_every_golden_field_under_the_platforms_name() -> None:
    config = load_config()
    assert config.targets["sendapp"].fields == PAYLOAD_FIELDS["sendapp"]
    assert config.targets["highlevel"].fields == PAYLOAD_FIELDS["highlevel"]
    chosen = parse_config('extends = "default"\n[targets.sendapp]\nfields = { email = "email" }\n')
    assert chosen.targets["sendapp"].fields == {"email": "email"}, "a stated mapping replaces the default"
