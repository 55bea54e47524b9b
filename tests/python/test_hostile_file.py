"""Hostile files: a file that cannot be read as the contract says stops the
build with one message that names the file and the row and shows nothing
of the file beyond a sanitised, short excerpt; a file that can be read is
read in full, and every row of it is accounted for (kept, merged or
quarantined). docs/bad_input.md lists each case.

The stops are planted one per file in one raw directory and run once
through ``python -m crm_analytics.publish`` (what ``make build`` runs): the
catalogue of stops in one run, the stops of issue 18 in another; a raw
directory with no purchase rows takes a third run, and the files that must
load a small green build. The file-level defects that keep the build green
(an extra column, another column order, a byte order mark, ...) change whole
files of the shared data set (planted.py), built once.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import (
    Warehouse,
    assert_one_clear_stop,
    build_fixture,
    count_file_rows,
    publish_run,
    run_dbt,
    write_table,
)
from planted import (
    BIG_ORDERS,
    RAW_TABLES,
    VALIDATED,
    Case,
    Row,
    Table,
    assert_planted_case,
    kept_value,
    kinds,
    one_value,
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


@build_fixture(scope="session")
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


@build_fixture(scope="session")
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


# --- defects that stop the build ---------------------------------------------


@dataclass(frozen=True)
class Fatal:
    """One defect that stops the build, the file that holds it and the words
    the one message must have about it."""

    kind: str
    path: str
    content: bytes | str
    expected: tuple[str, ...]

    def write(self, raw_dir: Path) -> None:
        """Bytes as they are; a str is a query whose rows become Parquet."""
        path = raw_dir / self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(self.content, bytes):
            path.write_bytes(self.content)
            return
        with duckdb.connect() as connection:
            connection.execute(f"copy ({self.content}) to '{path}' (format parquet)")


ORDERS_HEADER = b"order_id,account_id,ordered_at\n"
QUOTED_ORDERS = (
    b'"order_id","account_id","ordered_at","status"\n'
    b'"X1","A1","2024-01-01","completed"\n'
    b'"X2","A1","2024-01-02","completed"\n'
    b'"X3,"A1","2024-01-03","completed"\n'
    b'"X4","A1","2024-01-04","completed"\n'
)
FATALS = [
    Fatal(
        "unbalanced_quote",
        "orders.csv",
        QUOTED_ORDERS,
        ("orders.csv row 3", "quote that is never closed"),
    ),
    Fatal(
        "unclosed_quote_swallowing_the_rest",
        "web_events.csv",
        b"event_id,account_id,session_id,event_type,product_id,occurred_at\n"
        b"W1,,S1,session_start,,2024-01-01 10:00:00\n"
        b'W2,,S1,product_view,P1,"2024-01-01 10:01:00\n'
        b"W3,,S1,checkout,,2024-01-01 10:02:00\n"
        b"W4,,S2,session_start,,2024-01-02 10:00:00\n",
        ("web_events.csv row 2", "runs to the end of the file"),
    ),
    Fatal(
        "too_many_values",
        "orders/2030-01-01.csv",
        ORDERS_HEADER + b"X5,A1,2024-01-05\nX6,A1,2024-01-06,1,234.00\n",
        ("orders/2030-01-01.csv row 2", "more values than the 3 columns"),
    ),
    Fatal(
        "too_few_values",
        "orders/2030-01-02.csv",
        ORDERS_HEADER + b"X7,2024-01-07\nX8,A1,2024-01-08\n",
        ("orders/2030-01-02.csv row 1", "has 2 value(s) where the header has 3"),
    ),
    Fatal(
        "carriage_return_inside_a_value",
        "orders/2030-01-03.csv",
        ORDERS_HEADER + b"X9,A\r1,2024-01-09\n",
        ("orders/2030-01-03.csv row 1", "a line break outside quotes"),
    ),
    Fatal(
        "latin1_encoding",
        "orders/2030-01-04.csv",
        ORDERS_HEADER + b"X10,A1,2024-01-10\nX11,Caf\xe9,2024-01-11\n",
        ("orders/2030-01-04.csv row 2 is not UTF-8", "save the file as UTF-8"),
    ),
    Fatal(
        "utf16_encoding",
        "orders/2030-01-05.csv",
        "order_id,account_id,ordered_at\nX12,A1,2024-01-12\n".encode("utf-16"),
        ("orders/2030-01-05.csv has NUL characters in its header", "UTF-8"),
    ),
    Fatal(
        "zero_byte_file",
        "orders/2030-01-06.csv",
        b"",
        ("orders/2030-01-06.csv is empty (0 bytes)", "write the header row"),
    ),
    Fatal(
        "blank_lines_only",
        "orders/2030-01-07.csv",
        b"\n\n\n",
        ("orders/2030-01-07.csv has no header row",),
    ),
    Fatal(
        "line_longer_than_2mb",
        "orders/2030-01-08.csv",
        ORDERS_HEADER + b'X13,A1,"' + b"x" * 2_500_000 + b'"\n',
        ("orders/2030-01-08.csv row 1 is longer than", "2 MB"),
    ),
    Fatal(
        "required_column_missing",
        "tickets.csv",
        b"ticket_id,contact_id,resolved_at\nT1,C1,2024-01-02\n",
        ("tickets.csv lacks required column(s) opened_at", "it has ticket_id"),
    ),
    Fatal(
        "required_column_renamed",
        "survey_responses.csv",
        b"response_id,customer,responded_at\nR1,C1,2024-01-02\n",
        (
            "survey_responses.csv lacks required column(s) contact_id",
            "it has response_id, customer, responded_at",
        ),
    ),
    Fatal(
        "column_twice",
        "shop_accounts.csv",
        b"account_id,email,EMAIL \nA1,a@example.org,b@example.org\n",
        ("shop_accounts.csv has column(s) email more than once",),
    ),
    Fatal(
        "semicolon_separated",
        "email_events.csv",
        b"event_id;contact_id;event_type;occurred_at\nM1;C1;sent;2024-01-01\n",
        ("email_events.csv lacks required column(s)", "separated by semicolons"),
    ),
    Fatal(
        "csv_and_parquet_for_one_table",
        "order_lines/2030-01-01.parquet",
        "select 'X1' as order_id",
        ("Both CSV and Parquet files for raw table order_lines",),
    ),
    Fatal(
        "csv_renamed_to_parquet",
        "transactions.parquet",
        b"customer_id,transacted_at,amount\nC1,2024-01-01,1\n",
        ("transactions.parquet is not a Parquet file",),
    ),
    Fatal(
        "parquet_lacks_required_column",
        "products.parquet",
        "select 'Widget' as product_name, 10.0 as list_price",
        ("products.parquet lacks required column(s) product_id",),
    ),
    Fatal(
        "file_name_in_other_case",
        "Transactions.CSV",
        b"customer_id,transacted_at,amount\nC1,2024-01-01,1\n",
        ("Transactions.CSV: file names are case-sensitive", "transactions.csv"),
    ),
    Fatal(
        "spreadsheet_instead_of_csv",
        "products.xlsx",
        b"PK\x03\x04 a spreadsheet",
        ("products.xlsx: not a CSV or Parquet file (.xlsx)",),
    ),
]


@build_fixture(scope="session")
def fatal_output(tmp_path_factory) -> str:
    """One run on a raw directory where every file holds one fatal defect."""
    root = tmp_path_factory.mktemp("fatal")
    raw_dir = root / "raw"
    for fatal in FATALS:
        fatal.write(raw_dir)
    (raw_dir / "crm_contacts.csv").write_bytes(b"contact_id\nC1\n")
    (raw_dir / "order_lines.csv").write_bytes(
        b"order_id,line_number,product_id,quantity,unit_price\nX1,1,P1,1,1.00\n"
    )
    work = root / "work"
    # A failing earlier run's results must not be reported as this run's.
    (work / "target").mkdir(parents=True)
    (work / "target" / "run_results.json").write_text(
        '{"results": [{"status": "fail", "unique_id": "test.earlier-run", '
        '"message": "stale"}]}'
    )
    return assert_one_clear_stop(publish_run(raw_dir, work), work)


@pytest.mark.parametrize("fatal", FATALS, ids=[fatal.kind for fatal in FATALS])
def test_defect_stops_the_build_with_one_clear_message(
    fatal_output: str, fatal: Fatal
) -> None:
    lines = [line for line in fatal_output.splitlines() if fatal.expected[0] in line]
    assert len(lines) == 1, fatal_output[-6000:]
    for words in fatal.expected[1:]:
        assert words in lines[0], lines[0]


# --- file-level defects that keep the build green ----------------------------
# Each changes one whole file of the shared data set (planted.py), built once
# end to end; the products and contacts rows here are the ones other cases
# point at (ADV-P1, ADV-C1).


def add_loyalty_tier(header: list[str], rows: list[list[str]]) -> Table:
    return [*header, "loyalty_tier"], [[*row, "gold"] for row in rows]


def reverse_columns(header: list[str], rows: list[list[str]]) -> Table:
    return header[::-1], [row[::-1] for row in rows]


def upper_case_padded_header(header: list[str], rows: list[list[str]]) -> Table:
    return [f" {column.upper()} " for column in header], rows


def drop_priority(header: list[str], rows: list[list[str]]) -> Table:
    drop = header.index("priority")
    return header[:drop] + header[drop + 1 :], [
        row[:drop] + row[drop + 1 :] for row in rows
    ]


def header_only(header: list[str], rows: list[list[str]]) -> Table:
    return header, []


def check_table_loaded_in_full(table: str) -> Callable[[Warehouse, list[int]], None]:
    """A file-level defect: every row of the file reached triage."""

    def check(warehouse: Warehouse, rows: list[int]) -> None:
        rows_in = one_value(
            warehouse, f"select count(*) from intermediate.{VALIDATED[table]}"
        )
        assert rows_in == count_file_rows(warehouse.data_dir / f"{table}.csv")
        assert rows_in > 0 or table == "email_events"

    return check


def check_extra_column_ignored(warehouse: Warehouse, rows: list[int]) -> None:
    check_table_loaded_in_full("shop_accounts")(warehouse, rows)
    columns = warehouse.query("describe raw.shop_accounts")["column_name"]
    assert "loyalty_tier" not in set(columns)


def check_reordered_columns(warehouse: Warehouse, rows: list[int]) -> None:
    check_table_loaded_in_full("crm_contacts")(warehouse, rows)
    email = one_value(warehouse, kept_value("crm_contacts", "email", rows[0]))
    assert email == "ada.contact@example.org"


def check_bom(warehouse: Warehouse, rows: list[int]) -> None:
    check_table_loaded_in_full("products")(warehouse, rows)
    price = one_value(warehouse, kept_value("products", "list_price", rows[0]))
    assert float(price) == 10.0


def check_header_case(warehouse: Warehouse, rows: list[int]) -> None:
    check_table_loaded_in_full("orders")(warehouse, rows)


def check_missing_optional(warehouse: Warehouse, rows: list[int]) -> None:
    check_table_loaded_in_full("tickets")(warehouse, rows)
    assert (
        one_value(
            warehouse,
            "select count(*) from intermediate.int_tickets_validated "
            "where priority is not null",
        )
        == 0
    )


def check_header_only(warehouse: Warehouse, rows: list[int]) -> None:
    row = warehouse.query(
        "select * from marts.dq_row_reconciliation where source_table = 'email_events'"
    ).iloc[0]
    assert row["count_rows_in"] == 0 and bool(row["is_reconciled"])


PLANTED: list[Case] = [
    Case(
        "extra_column",
        "shop_accounts",
        check=check_extra_column_ignored,
        rewrite=add_loyalty_tier,
    ),
    Case(
        "columns_in_another_order",
        "crm_contacts",
        [
            Row(
                {
                    "contact_id": "ADV-C1",
                    "first_name": "Ada",
                    "email": "ada.contact@example.org",
                }
            )
        ],
        check=check_reordered_columns,
        rewrite=reverse_columns,
    ),
    Case(
        "utf8_bom",
        "products",
        [
            Row(
                {
                    "product_id": "ADV-P1",
                    "product_name": "Adversarial widget",
                    "category": "home",
                    "list_price": "10.00",
                    "unit_cost": "4.00",
                }
            )
        ],
        check=check_bom,
        encoding="utf-8-sig",
    ),
    Case(
        "header_in_other_case_and_padded",
        "orders",
        check=check_header_case,
        rewrite=upper_case_padded_header,
    ),
    Case(
        "optional_column_missing",
        "tickets",
        check=check_missing_optional,
        rewrite=drop_priority,
    ),
    Case(
        "header_only_file", "email_events", check=check_header_only, rewrite=header_only
    ),
]


@pytest.mark.parametrize("case", PLANTED, ids=kinds(PLANTED))
def test_defect_is_quarantined_or_kept_and_the_build_stays_green(
    planted_build, case: Case
) -> None:
    assert_planted_case(planted_build, case)


def test_every_raw_row_is_accounted_for(planted_build) -> None:
    """rows in = kept + merged + quarantined for every raw table, with rows
    in counted from the files by Python's csv module, not by the loader."""
    warehouse, planted = planted_build
    reconciliation = warehouse.query(
        "select * from marts.dq_row_reconciliation"
    ).set_index("source_table")
    assert set(reconciliation.index) == set(RAW_TABLES)
    for table in RAW_TABLES:
        path = planted.raw_dir / f"{table}.csv"
        in_file = count_file_rows(path) if path.exists() else 0
        row = reconciliation.loc[table]
        assert row["count_rows_in"] == in_file, table
        assert (
            row["count_kept"] + row["count_merged"] + row["count_quarantined"]
            == in_file
        ), table
    assert reconciliation.loc["orders", "count_rows_in"] > BIG_ORDERS
