"""Shared helpers: generate data and run dbt against it in a temp directory."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from crm_analytics.contract import PROJECT_DIR

BIN_DIR = Path(sys.executable).parent

# The key for email hashes in every build the tests run (a test value; real
# keys come from the user's environment, never from the repository).
TEST_PII_HASH_KEY = "test-key-" + "0123456789abcdef" * 2
os.environ.setdefault("CRM_PII_HASH_KEY", TEST_PII_HASH_KEY)

# Every dbt build, importer and generator the tests start runs in a zone far
# from UTC: the warehouse must give the same tables whatever the machine's
# zone (raw text without a zone is UTC). CRM_TEST_TZ picks another zone.
os.environ["TZ"] = os.environ.get("CRM_TEST_TZ", "Pacific/Auckland")


@dataclass
class Warehouse:
    """A dbt build's DuckDB file and what produced it."""

    path: Path
    data_dir: Path
    result: subprocess.CompletedProcess

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.path), read_only=True) as connection:
            return connection.sql(sql).df()


def generate(out: Path, *args: str) -> Path:
    """Run the demo generator into ``out``; returns ``out``."""
    subprocess.run(
        [sys.executable, "-m", "crm_analytics.generate", "--out", str(out), *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return out


RUN_METADATA_COLUMNS = ("evaluated_at",)
"""Columns that record when a build ran, not what it computed."""


def table_digests(path: Path, schema: str = "marts") -> dict[str, str]:
    """md5 of each table's rows as text, sorted, by table name. Floating
    point values count to 12 significant digits, after rounding to 15 (sums
    in another order differ in the last bits); RUN_METADATA_COLUMNS are
    left out."""
    with duckdb.connect(str(path), read_only=True) as connection:
        columns = connection.execute(
            "select table_name, column_name, data_type from duckdb_columns() "
            "where schema_name = ? order by table_name, column_index",
            [schema],
        ).fetchall()
        select_lists: dict[str, list[str]] = {}
        for table, column, data_type in columns:
            if column in RUN_METADATA_COLUMNS:
                continue
            quoted = '"' + column.replace('"', '""') + '"'
            if data_type in ("DOUBLE", "FLOAT"):
                # 15 digits first: a mean like 1.258014410875 summed in
                # another order is 1.2580144108750002, which would round to
                # 12 digits the other way (a tie at the 13th digit).
                quoted = f"printf('%.12g', cast(printf('%.15g', {quoted}) as double))"
            select_lists.setdefault(table, []).append(quoted)
        return {
            table: connection.execute(
                "select md5(coalesce(string_agg(row_text, chr(10) "
                "order by row_text), '')) from "
                f"(select cast(row({', '.join(items)}) as varchar) as row_text "
                f'from "{schema}"."{table}")'
            ).fetchone()[0]
            for table, items in select_lists.items()
        }


#: Fixtures that build a warehouse with dbt: a test using one (directly or
#: through another fixture) is marked ``e2e`` at collection.
BUILD_FIXTURES = frozenset({"demo_warehouse", "ml_warehouse"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BUILD_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


def refuse_in_fast_tier(what: str) -> None:
    """``make test-fast`` (CRM_TEST_TIER=fast) runs no dbt: a test that
    does must be marked ``e2e``, and this failure says so."""
    if os.environ.get("CRM_TEST_TIER") == "fast":
        pytest.fail(
            f"{what} in the fast tier: mark the test e2e "
            "(pytestmark = pytest.mark.e2e, or use a build fixture)"
        )


def run_dbt(
    command: list[str], raw_dir: Path, db_path: Path, work_dir: Path
) -> subprocess.CompletedProcess:
    """Run dbt in the project against ``raw_dir``, writing ``db_path``."""
    refuse_in_fast_tier(f"dbt {' '.join(command[:1])}")
    env = {
        **os.environ,
        "CRM_RAW_DIR": str(raw_dir),
        "CRM_DUCKDB_PATH": str(db_path),
        "CRM_DUCKDB_TEMP": str(work_dir / "duckdb_tmp"),
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        "CRM_TARGET": "dev",
    }
    return subprocess.run(
        [
            str(BIN_DIR / "dbt"),
            *command,
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )


def build(data_dir: Path, work_dir: Path, *extra: str) -> Warehouse:
    """``dbt build`` on ``data_dir/raw``; fails the test with dbt's output."""
    work_dir.mkdir(parents=True, exist_ok=True)
    db_path = work_dir / "warehouse.duckdb"
    result = run_dbt(["build", *extra], data_dir / "raw", db_path, work_dir)
    if result.returncode != 0:
        pytest.fail(
            f"dbt build failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
        )
    return Warehouse(db_path, data_dir, result)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A small generated data set with planted truth, built end to end."""
    root = tmp_path_factory.mktemp("demo")
    data_dir = generate(root / "data", "--customers", "1500", "--seed", "7")
    return build(data_dir, root / "build")


@pytest.fixture(scope="session")
def ml_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The demo data set of the README (5,000 customers, seed 42), built end
    to end: large enough for the planted personas and anomalies to be
    judged, and the figures in docs/ml_models.md are its figures."""
    root = tmp_path_factory.mktemp("ml")
    data_dir = generate(root / "data", "--customers", "5000", "--seed", "42")
    return build(data_dir, root / "build")
