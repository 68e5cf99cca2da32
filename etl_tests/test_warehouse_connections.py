"""The warehouse's short connections (`warehouse/connections.py`): the file attached to one DuckDB instance per
process, locked while a connection is open and released in between, so runs in other processes take turns."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import duckdb
from dagster_duckdb import DuckDBResource

from etl_project.defs.resources import get_warehouse
from etl_project.warehouse.store import Warehouse

# Another process: opens the file read-write, says so, and keeps it until its stdin closes.
HOLDER = """
import sys, duckdb
try:
    con = duckdb.connect(sys.argv[1])
except duckdb.IOException as exc:
    print("refused", exc, flush=True)
    sys.exit(0)
print("opened", flush=True)
sys.stdin.read()
con.close()
"""


def other_process(path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def warehouse(path: Path) -> Warehouse:
    return get_warehouse(DuckDBResource(database=str(path)))


def databases(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {path for (path,) in con.execute("SELECT path FROM duckdb_databases() WHERE path IS NOT NULL").fetchall()}


def test_the_file_is_locked_while_a_connection_is_open_and_free_between_them(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    wh = warehouse(path)
    with wh.held():
        holder = other_process(path)
        out, _ = holder.communicate("", timeout=60)
        assert out.startswith("refused"), out
        with wh.transaction() as con:
            con.execute("CREATE TABLE t AS SELECT 1 AS x")
    assert not Path(f"{path}.wal").exists(), "let go with a checkpoint, as a closed instance does"
    holder = other_process(path)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "opened"
    holder.communicate("", timeout=60)
    with wh.connect() as con:
        assert con.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_a_connection_waits_for_another_process_to_let_go(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    wh = warehouse(path)
    wh.ensure_schema()
    holder = other_process(path)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "opened"
    done: list[int] = []

    def count_tables() -> None:
        with wh.connect() as con:
            done.append(len(con.execute("SHOW TABLES").fetchall()))

    waiting = threading.Thread(target=count_tables)
    waiting.start()
    waiting.join(timeout=0.5)
    assert waiting.is_alive() and not done, "the file is another process's: the connection waits"
    holder.communicate("", timeout=60)
    waiting.join(timeout=60)
    assert done and done[0] > 0


def test_nested_connections_share_the_file_and_two_files_stay_apart(tmp_path: Path) -> None:
    a, b = tmp_path.resolve() / "a.duckdb", tmp_path.resolve() / "b.duckdb"
    first, second = warehouse(a), warehouse(b)
    with first.held(), first.transaction() as con:
        con.execute("CREATE TABLE only_in_a AS SELECT 1 AS x")
        with second.transaction() as other:  # a new file: its schema is created there, not found in the first
            other.execute("CREATE TABLE only_in_b AS SELECT 2 AS x")
            assert databases(other) == {str(a), str(b)}
            assert other.execute("SELECT count(*) FROM schema_state").fetchall() == [(1,)]
    with first.connect() as con:
        assert databases(con) == {str(a)}, "nothing else stays attached"
        tables = {name for (name,) in con.execute("SHOW TABLES").fetchall()}
        assert "only_in_a" in tables and "only_in_b" not in tables and "schema_state" in tables
    with second.connect() as con:
        tables = {name for (name,) in con.execute("SHOW TABLES").fetchall()}
        assert "only_in_b" in tables and "only_in_a" not in tables and "schema_state" in tables
