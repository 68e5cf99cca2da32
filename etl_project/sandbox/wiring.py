"""Point the project at a running sandbox: the environment for `dagster dev` and resources for the demo.

The sandbox's credentials are fixed development values (overridable with SANDBOX_* variables), not secrets.
"""

from __future__ import annotations

import os
from typing import Any

from dagster_duckdb import DuckDBResource

from etl_project.defs.resources import HighLevelResource, SendAppResource, SendOwlResource
from etl_project.sandbox.highlevel.store import HighLevelSettings
from etl_project.sandbox.sendapp.store import SendAppSettings
from etl_project.sandbox.sendowl.store import SendOwlSettings


def sandbox_env(base_urls: dict[str, str]) -> dict[str, str]:
    hl, so, sa = HighLevelSettings(), SendOwlSettings(), SendAppSettings()
    return {
        "HIGHLEVEL_BASE_URL": base_urls["highlevel"],
        "HIGHLEVEL_TOKEN": os.environ.get("SANDBOX_HIGHLEVEL_TOKEN", hl.token),
        "HIGHLEVEL_LOCATION_ID": os.environ.get("SANDBOX_HIGHLEVEL_LOCATION_ID", hl.location_id),
        "SENDOWL_BASE_URL": base_urls["sendowl"],
        "SENDOWL_KEY": os.environ.get("SANDBOX_SENDOWL_KEY", so.key),
        "SENDOWL_SECRET": os.environ.get("SANDBOX_SENDOWL_SECRET", so.secret),
        "SENDAPP_BASE_URL": base_urls["sendapp"],
        "SENDAPP_API_KEY": os.environ.get("SANDBOX_SENDAPP_API_KEY", sa.api_key),
        "SENDAPP_CHANNEL_TOKEN": sa.channel_token,
    }


def sandbox_resources(base_urls: dict[str, str], database: str) -> dict[str, Any]:
    env = sandbox_env(base_urls)
    return {
        "highlevel": HighLevelResource(
            base_url=env["HIGHLEVEL_BASE_URL"],
            token=env["HIGHLEVEL_TOKEN"],
            location_id=env["HIGHLEVEL_LOCATION_ID"],
        ),
        "sendowl": SendOwlResource(
            base_url=env["SENDOWL_BASE_URL"],
            key=env["SENDOWL_KEY"],
            secret=env["SENDOWL_SECRET"],
        ),
        "sendapp": SendAppResource(
            base_url=env["SENDAPP_BASE_URL"],
            api_key=env["SENDAPP_API_KEY"],
            channel_token=env["SENDAPP_CHANNEL_TOKEN"],
        ),
        "duckdb": DuckDBResource(database=database),
    }
