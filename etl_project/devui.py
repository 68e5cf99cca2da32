"""`make ui`: start the sandbox, then the Dagster UI wired to it through the environment; stop both on exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from etl_project.sandbox.highlevel.store import HighLevelSettings
from etl_project.sandbox.process import SandboxProcess
from etl_project.sandbox.sendapp.store import SendAppSettings


def main() -> int:
    with SandboxProcess() as sandbox:
        print("\n".join(sandbox.banner), flush=True)
        hl, sa = HighLevelSettings(), SendAppSettings()
        env = {
            **os.environ,
            "HIGHLEVEL_BASE_URL": sandbox.base_urls["highlevel"],
            "HIGHLEVEL_TOKEN": os.environ.get("SANDBOX_HIGHLEVEL_TOKEN", hl.token),
            "HIGHLEVEL_LOCATION_ID": os.environ.get("SANDBOX_HIGHLEVEL_LOCATION_ID", hl.location_id),
            "SENDAPP_BASE_URL": sandbox.base_urls["sendapp"],
            "SENDAPP_API_KEY": os.environ.get("SANDBOX_SENDAPP_API_KEY", sa.api_key),
            "SENDAPP_CHANNEL_TOKEN": sa.channel_token,
        }
        dagster = Path(sys.executable).with_name("dagster")
        try:
            return subprocess.call([str(dagster), "dev", "-w", "workspace.yaml"], env=env)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
