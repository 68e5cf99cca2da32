"""`make ui`: start the sandbox, then the Dagster UI wired to it through the environment; stop both on exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from etl_project.devtools.process import SandboxProcess
from etl_project.devtools.wiring import sandbox_env


def main() -> int:
    with SandboxProcess() as sandbox:
        print("\n".join(sandbox.banner), flush=True)
        env = {**os.environ, **sandbox_env(sandbox.base_urls)}
        dagster = Path(sys.executable).with_name("dagster")
        try:
            return subprocess.call([str(dagster), "dev", "-w", "workspace.yaml"], env=env)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
