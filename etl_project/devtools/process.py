"""Run `python -m etl_project.sandbox` as a child process and learn its base URLs (demo, UI, benchmarks)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Sequence

import httpx

from etl_project.sandbox.server import DEFAULT_PORTS

_URL_LINE = re.compile(r"^\s*([A-Z]+)_BASE_URL=(\S+)")


class SandboxProcess:
    def __init__(self, args: Sequence[str] = (), startup_timeout: float = 60.0) -> None:
        self.args = list(args)
        self.startup_timeout = startup_timeout
        self.base_urls: dict[str, str] = {}
        self.banner: list[str] = []
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> SandboxProcess:
        cmd = [sys.executable, "-m", "etl_project.sandbox", *self.args]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, bufsize=1)
        assert self._proc.stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        for line in self._proc.stdout:
            self.banner.append(line.rstrip())
            match = _URL_LINE.match(line)
            if match:
                self.base_urls[match.group(1).lower()] = match.group(2)
            if line.strip().startswith("seed="):
                break
            if time.monotonic() > deadline:
                break
        if not self.base_urls:
            self.stop()
            raise RuntimeError("the sandbox did not start:\n" + "\n".join(self.banner))
        try:
            for name in self.base_urls:
                httpx.get(f"{self.admin_url(name)}/_sandbox/health", timeout=10).raise_for_status()
        except BaseException:
            self.stop()  # never leave an orphaned server behind
            raise
        return self

    @staticmethod
    def any_free_ports() -> list[str]:
        """Arguments that put every stand-in on a free port (for runs beside another sandbox)."""
        return [arg for name in DEFAULT_PORTS for arg in (f"--{name}-port", "0")]

    @property
    def pid(self) -> int:
        """The sandbox process's id (benchmarks read its CPU time and peak memory from /proc)."""
        assert self._proc is not None, "not started"
        return self._proc.pid

    def admin_url(self, name: str) -> str:
        """The server root of a platform's stand-in (its API base may carry a path, like SendApp's /api)."""
        url = self.base_urls[name]
        return url[: -len("/api")] if url.endswith("/api") else url

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
