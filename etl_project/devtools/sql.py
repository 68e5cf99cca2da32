"""The demo's own queries (verb_object.sql in sql/ beside this module): read-only summaries of the warehouse the
demo filled, kept out of the product's `etl_project/warehouse/sql/`."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def demo_sql(name: str) -> str:
    return resources.files("etl_project.devtools").joinpath("sql", f"{name}.sql").read_text()
