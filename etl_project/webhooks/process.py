"""Run `python -m etl_project.webhooks` as a child process and learn its base URL (tests, benchmark, demo).

The child's stdout is read until the ready line; its stderr (the log) goes to a file, so a caller can check what
the receiver logged (the tests check that no signature, secret or body ever appears in it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

from etl_project.webhooks.__main__ import READY


class ReceiverProcess:
    def __init__(self, env: Mapping[str, str], startup_timeout: float = 60.0) -> None:
        self.env = {**os.environ, "WEBHOOK_PORT": "0", **env}
        self.startup_timeout = startup_timeout
        self.base_url = ""
        self.stdout: list[str] = []
        fd, name = tempfile.mkstemp(prefix="webhook-receiver-", suffix=".log")
        os.close(fd)
        self._log = Path(name)
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> ReceiverProcess:
        cmd = [sys.executable, "-m", "etl_project.webhooks"]
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(cmd, env=self.env, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1)
        ready = threading.Event()
        self._reader = threading.Thread(target=self._read_stdout, args=(ready,), daemon=True)
        self._reader.start()
        if not ready.wait(self.startup_timeout) or not self.base_url:
            self.kill()
            raise RuntimeError("the webhook receiver did not start:\n" + self.output())
        return self

    def _read_stdout(self, ready: threading.Event) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:  # drained to the end, so the child never blocks on a full pipe
            self.stdout.append(line.rstrip())
            if line.startswith(READY):
                self.base_url = line[len(READY) :].strip()
                ready.set()
        ready.set()  # the child exited before it was ready

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def url(self, platform: str) -> str:
        return f"{self.base_url}/webhooks/{platform}"

    def output(self) -> str:
        """Everything the receiver printed and logged so far."""
        return "\n".join(self.stdout) + "\n" + self._log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs (the crash test)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        self._reap()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._reap()

    def _reap(self) -> None:
        if self._proc is None:
            return
        self._proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> ReceiverProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log.unlink(missing_ok=True)
