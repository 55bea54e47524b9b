"""Property-based fuzzer of the raw contract: random transactions.csv
files with random defects (bad amounts, timestamps, missing keys, emails
and phones in keys) go through build and publish, and on every example:

- every raw row is accounted for (rows in = kept + merged + quarantined),
  rows in counted by Python's csv module;
- the serving file is unchanged unless the build passed;
- no planted email or phone is published.

Each example is a dbt build (15-40 s). Budget: CRM_FUZZ_EXAMPLES examples
(default 3 in ``make test``, about 2 minutes); ``make bench`` runs 50.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_analytics.contract import PROJECT_DIR
from crm_analytics.settings import dbt_environment

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("CRM_FUZZ_EXAMPLES", "3"))
EMAILS = ["fuzz.one@example.com", "f2@example.org"]
PHONES = ["+44 20 7946 0123", "020 7946 0456"]

customer_ids = st.sampled_from(["C-1", "C-2", "C-3", "", " C-1\t", *EMAILS])
timestamps = st.sampled_from(
    [
        "2024-01-05 10:00:00",
        "2024-02-29",
        "2024-13-01",
        "",
        "soon",
        "2999-01-01",
        "05/03/2024 10:00",
    ]
)
amounts = st.sampled_from(["10.50", "-3.00", "0", "abc", "", "1e3", "12,50", "7"])
order_ids = st.sampled_from(["", "T1", "T2", "T3", "T4", *PHONES])
rows = st.lists(
    st.tuples(customer_ids, timestamps, amounts, order_ids), min_size=1, max_size=12
)


def publish_run(raw_dir: Path, work: Path) -> subprocess.CompletedProcess:
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
            "+dq_row_reconciliation",
            "+dq_quarantined_rows",
            "+fct_orders",
            "--indirect-selection",
            "cautious",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=rows)
def test_random_transactions_keep_the_invariants(rows, tmp_path_factory) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    raw_dir = root / "raw"
    raw_dir.mkdir()
    with open(raw_dir / "transactions.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerows(
            [["customer_id", "transacted_at", "amount", "order_id"], *rows]
        )
    work = root / "work"
    work.mkdir()
    serving = work / "serving.duckdb"
    serving.write_bytes(b"the previous serving file")
    result = publish_run(raw_dir, work)
    if result.returncode != 0:
        assert serving.read_bytes() == b"the previous serving file", result.stdout[
            -3000:
        ]
        assert "not published" in result.stdout
        return
    with duckdb.connect(str(serving), read_only=True) as connection:
        row = connection.execute(
            "select count_rows_in, count_kept + count_merged + count_quarantined "
            "from marts.dq_row_reconciliation where source_table = 'transactions'"
        ).fetchone()
        assert row == (len(rows), len(rows))
        columns = connection.execute(
            "select table_name, column_name from duckdb_columns() "
            "where schema_name = 'marts' and data_type like 'VARCHAR%'"
        ).fetchall()
        text = "\n".join(
            str(value)
            for table, column in columns
            for (value,) in connection.execute(
                f'select distinct cast("{column}" as varchar) from marts."{table}"'
            ).fetchall()
        )
    for planted in [*EMAILS, *PHONES]:
        assert planted not in text
