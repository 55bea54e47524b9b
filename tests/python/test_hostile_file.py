"""Hostile files: a file that cannot be read as the contract says stops the
build with one message that names the file and the row and shows nothing
of the file beyond a sanitised, short excerpt; a file that can be read is
read in full (issue 18). docs/bad_input.md lists each case.

The stops are planted one per file in one raw directory and run once
through ``python -m crm_analytics.publish`` (what ``make build`` runs); a
raw directory with no purchase rows takes a second run, and the files that
must load a small green build.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import (
    assert_one_clear_stop,
    count_file_rows,
    publish_run,
    run_dbt,
    write_table,
)

pytestmark = pytest.mark.e2e

SWALLOWING_ORDERS = (
    b"order_id,account_id,ordered_at,status,updated_at\n"
    b"O00009,A1,2024-01-01,completed,2024-01-01 11:00:00\n"
    b'O00010,A1,2024-01-02,completed,"2024-01-02 11:00:00\n'
    b'O00011,A1,2024-01-03,completed,2024-01-03 11:00:00"\n'
    b"O00012,A1,2024-01-04,completed,2024-01-04 11:00:00\n"
)
SECRET_LINE = "secret-first-line:x:0:0:root:/root:/bin/bash"
FORGED = "Completed successfully"
ESCAPE_NAME = "2030-01-01\x1b[2J.csv"


@pytest.fixture(scope="session")
def file_stop_output(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("hostile_file")
    raw_dir = root / "raw"
    raw_dir.mkdir()
    (raw_dir / "orders.csv").write_bytes(SWALLOWING_ORDERS)
    # A Parquet file with one column twice, in two cases.
    pq.write_table(
        pa.table({"product_id": ["P1"], "PRODUCT_ID": ["P2"], "product_name": ["W"]}),
        raw_dir / "products.parquet",
    )
    # A folder where a file is expected.
    (raw_dir / "transactions.csv").mkdir()
    # A symlink out of the raw directory, to a file that is not a CSV.
    outside = root / "outside.txt"
    outside.write_text(SECRET_LINE + "\nsecond line\n")
    os.symlink(outside, raw_dir / "crm_contacts.csv")
    # File names with a forged log line and an escape that clears the screen.
    (raw_dir / f"notes\n{FORGED}\n.txt").write_text("x")
    (raw_dir / "orders").mkdir()
    (raw_dir / "orders" / ESCAPE_NAME).write_bytes(
        b"order_id,account_id,ordered_at\nX7,2024-01-07\n"
    )
    # A header of one very long name and a control character.
    (raw_dir / "tickets.csv").write_bytes(
        b"ticket_id,contact_id,\x07" + b"y" * 500 + b"\nT1,C1,x\n"
    )
    work = root / "work"
    return assert_one_clear_stop(publish_run(raw_dir, work), work)


def line_with(output: str, words: str) -> str:
    lines = [line for line in output.splitlines() if words in line]
    assert len(lines) == 1, output[-6000:]
    return lines[0]


def test_unclosed_quote_that_swallows_the_next_row_stops(file_stop_output) -> None:
    line = line_with(file_stop_output, "orders.csv row 2")
    assert "updated_at" in line
    assert "swallowed" in line


def test_parquet_with_a_column_twice_stops_like_csv(file_stop_output) -> None:
    line_with(file_stop_output, "products.parquet has column(s) product_id more than")


def test_folder_named_like_a_file_is_named(file_stop_output) -> None:
    line = line_with(file_stop_output, "transactions.csv is a folder")
    assert "not a file" in line


def test_symlink_is_refused_and_its_target_not_echoed(file_stop_output) -> None:
    line_with(file_stop_output, "crm_contacts.csv is a symbolic link")
    assert "secret-first-line" not in file_stop_output


def test_control_characters_in_names_are_escaped(file_stop_output) -> None:
    # dbt colours its own lines; the file name's escape must not get through
    assert "\x1b[2J" not in file_stop_output
    assert "\x07" not in file_stop_output
    assert not any(
        line.strip().startswith(FORGED) for line in file_stop_output.splitlines()
    )
    line_with(file_stop_output, "orders/2030-01-01\\x1b[2J.csv row 1 has 2 value(s)")
    line_with(file_stop_output, f"notes\\n{FORGED}\\n.txt")


def test_header_names_are_shown_short(file_stop_output) -> None:
    line = line_with(file_stop_output, "tickets.csv lacks required column(s)")
    assert "\\x07yyy" in line
    assert "y" * 100 not in line


@pytest.fixture(scope="session")
def no_purchase_output(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("hostile_empty")
    raw_dir = root / "raw"
    raw_dir.mkdir()
    (raw_dir / "orders.csv").mkdir()
    (raw_dir / "transactions.csv").write_text("customer_id,transacted_at,amount\n")
    work = root / "work"
    return assert_one_clear_stop(publish_run(raw_dir, work), work)


def test_header_only_transactions_stops_naming_the_file(no_purchase_output) -> None:
    line = line_with(no_purchase_output, "transactions.csv has no data rows")
    assert "add" in line


def test_folder_named_orders_csv_is_called_a_folder(no_purchase_output) -> None:
    line_with(no_purchase_output, "orders.csv is a folder, not a file")
    assert "No purchase data" not in no_purchase_output


MULTILINE_COMMENTS = [
    "Great shop.\nWould buy again, twice.",
    "first, second\nthird, fourth, fifth\n\nsixth",
    "R9,C9,2024-01-01\nlooks like a row but is too short",
]


def test_multiline_comments_still_load(tmp_path: Path) -> None:
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    write_table(
        raw_dir / "transactions.csv",
        ["customer_id", "transacted_at", "amount"],
        [["C1", "2024-01-01", "1.00"]],
    )
    header = ["response_id", "contact_id", "responded_at", "comment"]
    write_table(
        raw_dir / "survey_responses.csv",
        header,
        [
            [f"R{i}", "C1", "2024-01-02", comment]
            for i, comment in enumerate(MULTILINE_COMMENTS, 1)
        ],
    )
    work = tmp_path / "work"
    work.mkdir()
    result = run_dbt(
        ["build", "--select", "stg_survey__responses"],
        raw_dir,
        work / "warehouse.duckdb",
        work,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        comments = [
            row[0]
            for row in con.sql(
                "select comment from raw.survey_responses order by _row_number"
            ).fetchall()
        ]
    assert comments == MULTILINE_COMMENTS
    assert len(comments) == count_file_rows(raw_dir / "survey_responses.csv")
