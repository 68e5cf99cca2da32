"""Load the warehouse's SQL files by name (verb_object.sql beside this module)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load_sql(name: str) -> str:
    return resources.files("etl_project.warehouse").joinpath("sql", f"{name}.sql").read_text()


def create_statements() -> list[str]:
    folder = resources.files("etl_project.warehouse").joinpath("sql")
    return [
        load_sql(f.name[:-4]) for f in sorted(folder.iterdir(), key=lambda f: f.name) if f.name.startswith("create_")
    ]
