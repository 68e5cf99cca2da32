"""Stopping the child processes tests start (a sandbox CLI, a daemon, a code server)."""

from __future__ import annotations

import subprocess
from typing import Any


def stop(process: subprocess.Popen[Any], grace_s: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `grace_s`: how a child stops is not what these tests check,
    and a loaded machine can take long to stop its threads."""
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
