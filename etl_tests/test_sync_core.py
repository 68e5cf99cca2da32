"""The pure sync core on small literals and generated inputs: normalisation, identity, merge, config."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl_project.sync.config import ConfigError, FieldPolicy, load_config, parse_config
from etl_project.sync.golden import FieldValue, merge_person, pick
from etl_project.sync.identity import MatchInput, resolve
from etl_project.sync.normalise import normalise_email, normalise_name, normalise_phone, normalise_tags
from etl_tests.conftest import examples

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("  Ann.Lee@Gmail.COM ", "ann.lee@gmail.com"), ("ann@", None), ("", None), (None, None), ("a b@x.io", None)],
)
def test_normalise_email(raw: str | None, expected: str | None) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(
    "raw", ["+1 (212) 201-0020", "12122010020", "(212) 201-0020", "212.201.0020", "+1 212-201-0020", "+12122010020"]
)
def test_every_phone_format_of_one_number_gives_one_e164(raw: str) -> None:
    assert normalise_phone(raw) == "+12122010020"


def test_invalid_phones_are_not_guessed() -> None:
    assert normalise_phone("555") is None
    assert normalise_phone("+1 555 010 2000") is None  # 555 is not a US area code
    assert normalise_phone("") is None


def test_names_and_tags() -> None:
    assert normalise_name("  Mary   Ann ") == "Mary Ann"
    assert normalise_name("   ") is None
    assert normalise_tags([" VIP", "vip", "", "Lead "]) == frozenset({"vip", "lead"})


def test_same_person_in_three_platforms_is_one_identity() -> None:
    records = [
        MatchInput("highlevel", "h1", normalise_email(" Ann@Example.com"), normalise_phone("+1 (212) 201-0020")),
        MatchInput("sendowl", "o9", normalise_email("ANN@example.com"), None),
        MatchInput("sendapp", "77", None, normalise_phone("12122010020")),
        MatchInput("sendapp", "78", None, normalise_phone("12122010021")),
    ]
    result = resolve(records)
    assert result.links[("highlevel", "h1")] == result.links[("sendowl", "o9")] == result.links[("sendapp", "77")]
    assert result.links[("sendapp", "78")] != result.links[("highlevel", "h1")]
    assert result.matched_by[("sendapp", "77")] == "phone" and not result.conflicts


def test_ambiguous_matches_are_conflicts_not_merges() -> None:
    records = [
        MatchInput("highlevel", "h1", "a@x.io", "+12122010020"),
        MatchInput("highlevel", "h2", "b@x.io", None),
        # same phone as h1 but another email: one phone on two emails
        MatchInput("sendapp", "1", "b@x.io", "+12122010020"),
        # a second HighLevel record with h1's email: a duplicate inside one platform
        MatchInput("highlevel", "h3", "a@x.io", None),
    ]
    result = resolve(records)
    assert result.links[("sendapp", "1")] == result.links[("highlevel", "h2")], "email wins before phone"
    assert result.links[("highlevel", "h3")] != result.links[("highlevel", "h1")]
    assert [c.platform_id for c in result.conflicts] == ["h3"]
    phone_clash = resolve(
        [MatchInput("highlevel", "h1", "a@x.io", "+12122010020"), MatchInput("sendapp", "1", "c@x.io", "+12122010020")]
    )
    assert phone_clash.links[("sendapp", "1")] != phone_clash.links[("highlevel", "h1")]
    assert "another email" in phone_clash.conflicts[0].reason


def test_existing_links_are_kept() -> None:
    records = [MatchInput("highlevel", "h1", "a@x.io", None), MatchInput("sendapp", "1", "z@x.io", None)]
    result = resolve(records, existing={("sendapp", "1"): "p_kept", ("highlevel", "h1"): "p_kept"})
    assert set(result.links.values()) == {"p_kept"}


people = st.lists(
    st.tuples(
        st.sampled_from(["highlevel", "sendapp", "sendowl"]),
        st.sampled_from(["a@x.io", "b@x.io", "c@x.io", None]),
        st.sampled_from(["+12122010020", "+12122010021", None]),
    ),
    max_size=12,
)


@settings(max_examples=examples(200), deadline=None)
@given(people, st.randoms(use_true_random=False))
def test_resolution_is_deterministic_and_never_puts_two_records_of_a_platform_together(
    rows: list[tuple[str, str | None, str | None]], rnd: random.Random
) -> None:
    records = [MatchInput(p, str(i), e, ph) for i, (p, e, ph) in enumerate(rows)]
    first = resolve(records)
    shuffled = records[:]
    rnd.shuffle(shuffled)
    assert resolve(shuffled).links == first.links, "same inputs, any order, same identities"
    for keys in first.people().values():
        platforms = [platform for platform, _ in keys]
        assert len(platforms) == len(set(platforms)), "a person holds at most one record per platform"
    again = resolve(records, existing=first.links)
    assert again.links == first.links, "re-resolving with the links it produced changes nothing"


def test_merge_policy_source_of_truth_and_last_writer_wins() -> None:
    values = {
        "email": [FieldValue("sendapp", "new@x.io", T0 + timedelta(hours=2)), FieldValue("highlevel", "a@x.io", T0)],
        "first_name": [FieldValue("highlevel", "Ann", T0), FieldValue("sendapp", "Anna", T0 + timedelta(hours=1))],
        "last_name": [FieldValue("highlevel", "Lee", T0), FieldValue("sendapp", "Li", T0)],
        "phone": [FieldValue("sendapp", None, T0)],
    }
    policies = {"email": FieldPolicy(strategy="source", source="highlevel")}
    golden = merge_person(values, policies, ["highlevel", "sendapp"])
    assert golden["email"].value == "a@x.io", "the source of truth wins even when older"
    assert golden["first_name"].value == "Anna", "otherwise the latest change wins"
    assert golden["last_name"].value == "Lee", "a tie goes to the platform listed first"
    assert "phone" not in golden
    only_sendapp = [FieldValue("sendapp", "s@x.io", T0)]
    assert pick(only_sendapp, FieldPolicy(strategy="source", source="highlevel"), []).value == "s@x.io"  # type: ignore[union-attr]
    assert pick(only_sendapp, FieldPolicy(strategy="source", source="highlevel", fallback="none"), []) is None


def test_shipped_config_loads_and_errors_name_the_bad_key() -> None:
    config = load_config()
    assert config.flows.highlevel_contacts_to_sendapp and config.flows.sendapp_contacts_to_highlevel
    assert config.targets["sendapp"].fields["phone"] == "number"
    with pytest.raises(ConfigError) as caught:
        parse_config('[targets.sendapp]\nmode = "sometimes"\nfields = {}\n[thresholds]\nmax_update_share = 2\n')
    message = str(caught.value)
    assert "targets.sendapp.mode" in message and "thresholds.max_update_share" in message
    with pytest.raises(ConfigError, match=r"flows\.highlevel_contacts_to_sendpp"):
        parse_config("[flows]\nhighlevel_contacts_to_sendpp = true\n")
    with pytest.raises(ConfigError, match="unknown golden field"):
        parse_config('[targets.sendapp]\nfields = { emial = "email" }\n')
