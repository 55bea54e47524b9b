"""Helpers the tests share: generate data, run dbt or the publish against it
in a temp directory, read and write raw CSV files, compare builds.

Importing this module sets the environment every build of the tests runs in
(the email hash key and a time zone far from UTC); conftest.py imports it,
so that holds before any test or fixture starts a build. Tests import from
here, never from conftest.py or from another test file.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from crm_analytics import compare
from crm_analytics.contract import PROJECT_DIR
from crm_analytics.settings import dbt_environment

BIN_DIR = Path(sys.executable).parent

# The key for email hashes in every build the tests run (a test value; real
# keys come from the user's environment, never from the repository).
TEST_PII_HASH_KEY = "test-key-" + "0123456789abcdef" * 2
os.environ.setdefault("CRM_PII_HASH_KEY", TEST_PII_HASH_KEY)

# Every dbt build, importer and generator the tests start runs in a zone far
# from UTC: the warehouse must give the same tables whatever the machine's
# zone (raw text without a zone is UTC). CRM_TEST_TZ picks another zone.
os.environ["TZ"] = os.environ.get("CRM_TEST_TZ", "Pacific/Auckland")

# Planted values reach 1 MB (test_hostile_text.py); the csv module that
# counts a file's rows must read them.
csv.field_size_limit(16_000_000)


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


# Digests of a warehouse's tables (crm_analytics.compare, which
# `python -m crm_analytics.compare` also uses to list what differs).
RUN_METADATA_COLUMNS = compare.RUN_METADATA_COLUMNS
table_digests = compare.table_digests


# --- the fast tier -----------------------------------------------------------

#: Fixtures that run dbt (directly, or through the publish): a test using one
#: (directly or through another fixture) is marked ``e2e`` at collection
#: (conftest.py). build_fixture adds to it; names are matched across
#: modules, so a fixture of the same name elsewhere counts too.
BUILD_FIXTURES: set[str] = set()


def build_fixture(function=None, **fixture_args):
    """``pytest.fixture`` for a fixture that runs dbt: every test that uses
    it is marked ``e2e``. Use as ``@build_fixture`` or
    ``@build_fixture(scope="session")``."""

    def register(function):
        BUILD_FIXTURES.add(fixture_args.get("name") or function.__name__)
        return pytest.fixture(**fixture_args)(function)

    return register if function is None else register(function)


def refuse_in_fast_tier(what: str) -> None:
    """``make test-fast`` (CRM_TEST_TIER=fast) runs no dbt: a test that
    does must be marked ``e2e``, and this failure says so."""
    if os.environ.get("CRM_TEST_TIER") == "fast":
        pytest.fail(
            f"{what} in the fast tier: mark the test e2e "
            "(pytestmark = pytest.mark.e2e, or use a build fixture)"
        )


def runs_dbt(args) -> bool:
    """Whether a command line starts dbt: dbt itself, or the publish
    without ``--publish-only``."""
    if isinstance(args, str):
        args = args.split()
    elif isinstance(args, bytes | os.PathLike):
        args = [args]
    words = [os.fsdecode(word) for word in args]
    if words and Path(words[0]).name == "dbt":
        return True
    return "crm_analytics.publish" in words and "--publish-only" not in words


# --- dbt and the publish -----------------------------------------------------


def run_dbt(
    command: list[str],
    raw_dir: Path,
    db_path: Path,
    work_dir: Path,
    unit_tests: bool = False,
) -> subprocess.CompletedProcess:
    """Run dbt in the project against ``raw_dir``, writing ``db_path``. A
    ``dbt build`` leaves dbt's unit tests out (they check SQL on fixed rows,
    not the data; the demo warehouse's build runs them) unless
    ``unit_tests`` or the command chooses resource types itself."""
    refuse_in_fast_tier(f"dbt {' '.join(command[:1])}")
    env = dbt_environment(
        raw_dir=raw_dir,
        build_path=db_path,
        temp_dir=work_dir / "duckdb_tmp",
        target="dev",
        profiles_dir=PROJECT_DIR / "profiles",
    )
    if (
        command[:1] == ["build"]
        and not unit_tests
        and not any("resource-type" in word for word in command)
    ):
        command = [*command, "--exclude-resource-type", "unit_test"]
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


def build(
    data_dir: Path, work_dir: Path, *extra: str, unit_tests: bool = False
) -> Warehouse:
    """``dbt build`` on ``data_dir/raw``; fails the test with dbt's output.
    dbt's unit tests check SQL on fixed rows, whatever the data: the demo
    warehouse's build runs them (``unit_tests=True``), the others leave
    them out, as the publish does."""
    work_dir.mkdir(parents=True, exist_ok=True)
    db_path = work_dir / "warehouse.duckdb"
    result = run_dbt(
        ["build", *extra], data_dir / "raw", db_path, work_dir, unit_tests=unit_tests
    )
    if result.returncode != 0:
        pytest.fail(
            f"dbt build failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
        )
    return Warehouse(db_path, data_dir, result)


def publish_run(
    raw_dir: Path, work: Path, *dbt_args: str
) -> subprocess.CompletedProcess:
    """``python -m crm_analytics.publish`` (what ``make build`` runs) on
    ``raw_dir``; stdout and stderr together, as a user sees them."""
    refuse_in_fast_tier("python -m crm_analytics.publish")
    work.mkdir(parents=True, exist_ok=True)
    env = dbt_environment(
        raw_dir=raw_dir,
        temp_dir=work / "duckdb_tmp",
        target="dev",
        profiles_dir=PROJECT_DIR / "profiles",
        target_path=work / "target",
        log_path=work / "logs",
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "crm_analytics.publish",
            "--build-path",
            str(work / "build.duckdb"),
            "--serving-path",
            str(work / "serving.duckdb"),
            "--select",
            "staging",
            *dbt_args,
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )


RAW_ERROR_WORDS = (
    "Traceback",
    "Compilation Error",
    "Parser Error",
    "Binder Error",
    "Invalid Input Error",
    "Conversion Error",
    "Catalog Error",
)


def assert_one_clear_stop(result: subprocess.CompletedProcess, work: Path) -> str:
    """The run failed with one dbt error and publish's summary, no
    traceback or raw database error, and nothing was published."""
    output = result.stdout
    assert result.returncode == 1, output[-4000:]
    assert output.count("Encountered an error") == 1, output[-4000:]
    for words in RAW_ERROR_WORDS:
        assert words not in output, output[-4000:]
    assert "not published: dbt build failed" in output
    assert "dbt stopped before building anything" in output
    assert "earlier-run" not in output
    assert not (work / "serving.duckdb").exists()
    return output


# --- raw CSV files -----------------------------------------------------------


def count_file_rows(path: Path) -> int:
    """Data rows of a CSV file, counted by Python's csv module (quoted line
    breaks included), independently of the loader."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_table(path: Path, header: list[str], rows: list[list[str]], **open_args):
    with open(path, "w", newline="", encoding=open_args.get("encoding", "utf-8")) as f:
        csv.writer(f, lineterminator="\n").writerows([header, *rows])


def association_rules_by_hand(
    warehouse: Warehouse, min_support: float = 0.001, min_confidence: float = 0.05
) -> pd.DataFrame:
    """The association rules of a build, counted in pandas from the published
    lines and catalogue (not from int_order_baskets or the model's SQL):
    baskets are completed orders, each product or category once; a rule
    A -> C is kept at support >= min_support and confidence >=
    min_confidence. One row per rule with its counts, supports, confidence
    and lift; the default thresholds are the project's."""
    lines = warehouse.query(
        "select items.order_id, items.product_id, products.category "
        "from marts.fct_order_items as items "
        "inner join marts.dim_products as products "
        "on items.product_id = products.product_id "
        "where items.is_completed"
    )
    levels = {
        "product": lines[["order_id", "product_id"]].rename(
            columns={"product_id": "item"}
        ),
        "category": lines[["order_id", "category"]]
        .dropna()
        .rename(columns={"category": "item"}),
    }
    rules = []
    for level, basket_items in levels.items():
        basket_items = basket_items.drop_duplicates()
        count_baskets = basket_items["order_id"].nunique()
        if count_baskets == 0:
            continue
        item_counts = basket_items["item"].value_counts()
        pairs = basket_items.merge(basket_items, on="order_id")
        pairs = pairs[pairs["item_x"] != pairs["item_y"]]
        pair_counts = pairs.groupby(["item_x", "item_y"]).size()
        for (antecedent, consequent), count_pair in pair_counts.items():
            support = count_pair / count_baskets
            confidence = count_pair / item_counts[antecedent]
            if support < min_support or confidence < min_confidence:
                continue
            consequent_support = item_counts[consequent] / count_baskets
            rules.append(
                {
                    "association_level": level,
                    "antecedents": antecedent,
                    "consequents": consequent,
                    "count_baskets": count_baskets,
                    "count_pair_baskets": int(count_pair),
                    "antecedent_support": item_counts[antecedent] / count_baskets,
                    "consequent_support": consequent_support,
                    "support": support,
                    "confidence": confidence,
                    "lift": confidence / consequent_support,
                }
            )
    return pd.DataFrame(
        rules,
        columns=[
            "association_level", "antecedents", "consequents", "count_baskets",
            "count_pair_baskets", "antecedent_support", "consequent_support",
            "support", "confidence", "lift",
        ],
    )  # fmt: skip


def assert_association_rules_by_hand(warehouse: Warehouse) -> pd.DataFrame:
    """fct_product_associations holds exactly the rules counted by hand
    (association_rules_by_hand), with equal counts and metrics (to the
    mart's 10 decimals). Returns the rules."""
    expected = association_rules_by_hand(warehouse)
    published = warehouse.query(
        "select " + ", ".join(expected.columns) + " from marts.fct_product_associations"
    )
    keys = ["association_level", "antecedents", "consequents"]
    merged = expected.merge(
        published, on=keys, how="outer", suffixes=("", "_published"), indicator=True
    )
    unmatched = merged[merged["_merge"] != "both"]
    assert unmatched.empty, unmatched[[*keys, "_merge"]].to_string()
    if merged.empty:
        return expected
    for column in expected.columns.drop(keys):
        difference = (merged[column] - merged[f"{column}_published"]).abs().max()
        assert difference < 1e-9, (column, difference)
    return expected
