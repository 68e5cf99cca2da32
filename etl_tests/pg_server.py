"""A throwaway PostgreSQL server for tests: the machine's own binaries, a fresh cluster in a temporary folder, a free
loopback port, password authentication; stopped and deleted at the end.

`initdb` and `postgres` refuse to run as root, so as root the server runs as an unprivileged account (`postgres`,
which Debian's package creates, else `nobody`) through `runuser`; its folder is handed to that account.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2

DEADLINE_S = 120.0  # generous: a busy two-core machine can take a while to start a cluster


def find_bin_dir() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/<version>/bin (newest)."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(versions[-1]).parent if versions else None


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a `postgres` nor a `nobody` account exists for the server")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class PostgresDsn:
    host: str
    port: int
    username: str
    password: str
    db_name: str

    def env(self) -> dict[str, str]:
        """The variables `deploy/dagster.yaml` reads (the password only ever travels this way)."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": self.username,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.db_name,
        }

    def connect(self, db_name: str | None = None) -> psycopg2.extensions.connection:
        return psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.username,
            password=self.password,
            dbname=db_name or self.db_name,
            connect_timeout=5,
        )


class PostgresServer:
    """`with PostgresServer(bin_dir) as dsn:` a running cluster with an empty database `dsn.db_name`."""

    def __init__(self, bin_dir: Path, db_name: str = "dagster", username: str = "dagster") -> None:
        self.bin_dir = bin_dir
        self.db_name = db_name
        self.username = username
        self.password = secrets.token_urlsafe(18)
        self.account = _server_account()
        # Under /tmp when the server runs as another account: it must be able to reach its folder.
        self.base = Path(tempfile.mkdtemp(prefix="etl-pg-", dir="/tmp" if self.account else None))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.port = 0

    def _run(self, *args: str, timeout: float = DEADLINE_S) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.account is not None:
            cmd = ["runuser", "-u", self.account.pw_name, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def _init_cluster(self) -> None:
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.account is not None:
            for path in (self.base, pwfile):
                os.chown(path, self.account.pw_uid, self.account.pw_gid)
        # scram-sha-256 for TCP and the socket: the clients must really present the password.
        done = self._run(
            "initdb", "-D", str(self.data), "-U", self.username, f"--pwfile={pwfile}",
            "--auth=scram-sha-256", "--encoding=UTF8", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")

    def _start_once(self) -> bool:
        self.port = free_port()
        # A test cluster: durability off (fsync, full-page writes) for speed; only loopback and our socket folder.
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "90", "start")
        return done.returncode == 0

    def _wait_ready(self) -> None:
        """Ready means a password login to the server answers a query, not only that the port is open."""
        end = time.monotonic() + DEADLINE_S
        last: Exception | None = None
        while time.monotonic() < end:
            try:
                with PostgresDsn("127.0.0.1", self.port, self.username, self.password, "postgres").connect() as con:
                    con.cursor().execute("SELECT 1")
                return
            except psycopg2.OperationalError as exc:
                last = exc
                time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not accept a login within {DEADLINE_S:.0f} s: {last}")

    def start(self) -> PostgresDsn:
        self._init_cluster()
        # pg_ctl -w itself waits until the server accepts connections; a second try covers a port taken meanwhile.
        if not (self._start_once() or self._start_once()):
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start:\n{log[-3000:]}")
        self._wait_ready()
        dsn = PostgresDsn("127.0.0.1", self.port, self.username, self.password, self.db_name)
        con = dsn.connect("postgres")
        try:
            con.autocommit = True  # CREATE DATABASE cannot run inside a transaction
            con.cursor().execute(f'CREATE DATABASE "{self.db_name}"')
        finally:
            con.close()
        return dsn

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PostgresDsn:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
