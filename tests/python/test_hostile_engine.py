"""Hostile engine states: what DuckDB leaves beside a file, and values at
the edge of its types, must not stop a publish or a build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from crm_analytics.publish import publish


def fake_build(path: Path, rows: int) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            f"create table marts.t as select range as x from range({rows})"
        )
    return path


def leave_stale_wal(path: Path) -> Path:
    """A read-write client writes to ``path`` and dies without a
    checkpoint: its WAL stays beside the file."""
    script = (
        "import duckdb, os, sys; "
        "c = duckdb.connect(sys.argv[1]); "
        "c.execute(\"set checkpoint_threshold = '10GB'\"); "
        "c.execute('create table marts.stale as select range as y from range(5)'); "
        "os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True)
    wal = Path(f"{path}.wal")
    assert wal.exists() and wal.stat().st_size > 0
    return wal


def read_only_count(path: Path) -> int:
    """marts.t rows seen by a new read-only reader in another process."""
    script = (
        "import duckdb, sys; "
        "c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(c.execute('select count(*) from marts.t').fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return int(out.stdout)


def test_a_stale_wal_beside_the_serving_file_does_not_break_the_next_publish(
    tmp_path: Path,
) -> None:
    serving = tmp_path / "crm.duckdb"
    publish(fake_build(tmp_path / "b1.duckdb", 3), serving)
    wal = leave_stale_wal(serving)
    publish(fake_build(tmp_path / "b2.duckdb", 7), serving)
    assert read_only_count(serving) == 7
    assert not wal.exists()
    # Nothing but the serving file is left beside it.
    assert sorted(p.name for p in tmp_path.iterdir() if "crm" in p.name) == [
        "crm.duckdb"
    ]
