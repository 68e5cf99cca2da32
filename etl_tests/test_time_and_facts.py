"""Facts stated once: the ISO-time formatter and parser (`platforms/fields.py`) and a HighLevel contact's update
time (dateUpdated, else dateAdded), as Python and as the warehouse's SQL read them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import duckdb

from etl_project.platforms.fields import instant_or_none, iso_utc, parse_instant
from etl_project.platforms.highlevel.models import Contact, contact_updated
from etl_project.warehouse.tables import kind_table

T = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def test_one_formatter_writes_utc_with_z_at_the_asked_precision() -> None:
    assert iso_utc(T) == "2026-11-02T09:30:00.000Z"
    assert iso_utc(T.astimezone(timezone(timedelta(hours=2)))) == "2026-11-02T09:30:00.000Z"
    assert iso_utc(T.replace(tzinfo=None)) == "2026-11-02T09:30:00.000Z", "a naive time is UTC"
    assert iso_utc(T, timespec="auto") == "2026-11-02T09:30:00Z"
    assert iso_utc(T.replace(microsecond=5), timespec="auto") == "2026-11-02T09:30:00.000005Z"
    assert iso_utc(T, timespec="seconds") == "2026-11-02T09:30:00Z"
    for text in (iso_utc(T), iso_utc(T, timespec="auto"), T.isoformat()):
        assert parse_instant(text) == T, "the parser reads every form the formatter (or isoformat) wrote"


def test_the_lenient_parser_gives_none_where_nothing_must_fail() -> None:
    assert instant_or_none("2026-11-02T09:30:00.000Z") == T
    assert instant_or_none("2026-11-02T09:30:00") == T
    for value in (None, "", "soon", 0):
        assert instant_or_none(value) is None


def test_a_contacts_update_time_is_date_updated_else_date_added_everywhere() -> None:
    added, updated = "2026-11-01T08:00:00.000Z", "2026-11-02T09:30:00.000Z"
    both, only_added = {"dateAdded": added, "dateUpdated": updated}, {"dateAdded": added}
    assert contact_updated(both) == updated and contact_updated(only_added) == added and contact_updated({}) is None
    assert Contact.model_validate({"id": "c", **both}).updated_at == T
    assert Contact.model_validate({"id": "c", **only_added}).updated_at == T - timedelta(hours=25, minutes=30)
    expression = kind_table("highlevel", "contacts").payload_updated_sql("p::JSON")
    with duckdb.connect() as con:
        for payload in (both, only_added):
            row = con.execute(f"SELECT {expression} FROM (SELECT ?::VARCHAR AS p)", [json.dumps(payload)]).fetchone()
            assert row == (contact_updated(payload),), "the SQL reads the rule the Python states"
