"""`make ui`: start the sandbox, then the Dagster UI wired to it through the environment; stop both on exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from etl_project.sandbox.highlevel.store import HighLevelSettings
from etl_project.sandbox.process import SandboxProcess


def main() -> int:
    port = os.environ.get("SANDBOX_HIGHLEVEL_PORT", "8101")
    with SandboxProcess(["--highlevel-port", port]) as sandbox:
        print("\n".join(sandbox.banner), flush=True)
        hl = HighLevelSettings()
        env = {
            **os.environ,
            "HIGHLEVEL_BASE_URL": sandbox.base_urls["highlevel"],
            "HIGHLEVEL_TOKEN": os.environ.get("SANDBOX_HIGHLEVEL_TOKEN", hl.token),
            "HIGHLEVEL_LOCATION_ID": os.environ.get("SANDBOX_HIGHLEVEL_LOCATION_ID", hl.location_id),
        }
        dagster = Path(sys.executable).with_name("dagster")
        try:
            return subprocess.call([str(dagster), "dev", "-w", "workspace.yaml"], env=env)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
