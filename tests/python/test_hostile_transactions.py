"""The minimal input, one transactions.csv: money written as text, refunds,
free purchases and repeated purchases are kept; amounts that are no number
or no decimal(18,2), a missing customer and a date before 1900 are
quarantined with the reason (issue 18). docs/bad_input.md lists each case.

The file holds every case, each in its own rows, and is built once through
loading, staging, triage and the data-quality marts.
"""

from __future__ import annotations

import pytest
from helpers import Warehouse, build_fixture, count_file_rows, run_dbt, write_table
from planted import Case, Row, assert_fates, kinds


def transaction(customer_id: str, transacted_at: str, amount: str, order_id=""):
    return {
        "customer_id": customer_id,
        "transacted_at": transacted_at,
        "amount": amount,
        "order_id": order_id,
    }


TRANSACTION_CASES: list[Case] = [
    Case(
        "valid_transactions_with_money_text",
        "transactions",
        [
            Row(transaction("T-C1", "2024-01-05 10:00:00", "10.50", "INV-1")),
            Row(transaction("T-C1", "2024-02-05", "$1,234.50 USD", "INV-2")),
        ],
    ),
    Case(
        "negative_amount_is_a_refund",
        "transactions",
        [Row(transaction("T-C1", "2024-02-06", "-5.00", "INV-3"))],
    ),
    Case(
        "zero_amount_is_a_free_purchase",
        "transactions",
        [Row(transaction("T-C2", "2024-03-05", "0", "INV-4"))],
    ),
    Case(
        "same_purchase_twice_without_a_key",
        "transactions",
        [
            Row(transaction("T-C2", "2024-03-12", "9.99", "INV-5")),
            Row(transaction("T-C2", "2024-03-12", "9.99", "INV-5")),
        ],
    ),
    Case(
        "nan_amount",
        "transactions",
        [
            Row(
                transaction("T-C2", "2024-03-06", "NaN"),
                "quarantined",
                "missing_required_field",
            )
        ],
    ),
    Case(
        "infinite_amounts",
        "transactions",
        [
            Row(
                transaction("T-C2", "2024-03-07", amount),
                "quarantined",
                "invalid_number",
            )
            for amount in ("inf", "-Infinity")
        ],
    ),
    Case(
        "exponent_and_decimal_comma_amounts",
        "transactions",
        [
            Row(
                transaction("T-C2", "2024-03-08", amount),
                "quarantined",
                "invalid_number",
            )
            for amount in ("1e5", "1.234,50")
        ],
    ),
    Case(
        "absurd_amount_beyond_decimal",
        "transactions",
        [
            Row(
                transaction("T-C2", "2024-03-09", "99999999999999999999"),
                "quarantined",
                "invalid_number",
            )
        ],
    ),
    Case(
        "missing_customer",
        "transactions",
        [
            Row(
                transaction("", "2024-03-10", "5.00"),
                "quarantined",
                "missing_required_field",
            )
        ],
    ),
    Case(
        "date_before_1900",
        "transactions",
        [
            Row(
                transaction("T-C3", "1899-12-31", "5.00"),
                "quarantined",
                "invalid_timestamp",
            )
        ],
    ),
]


@build_fixture(scope="session")
def transactions_build(tmp_path_factory) -> tuple[Warehouse, dict[str, list[int]]]:
    """The minimal input (one transactions.csv) with its defects, built
    through loading, staging, triage and the data-quality marts."""
    root = tmp_path_factory.mktemp("transactions")
    raw_dir = root / "raw"
    raw_dir.mkdir()
    header = ["customer_id", "transacted_at", "amount", "order_id"]
    rows: list[list[str]] = []
    numbers: dict[str, list[int]] = {}
    for case in TRANSACTION_CASES:
        numbers[case.kind] = []
        for row in case.rows:
            rows.append([row.cells[column] for column in header])
            numbers[case.kind].append(len(rows))
    write_table(raw_dir / "transactions.csv", header, rows)
    work = root / "build"
    work.mkdir()
    # The file is a catalogue of defects: most of its rows are meant to be
    # quarantined, which the quarantine-share stop would refuse.
    result = run_dbt(
        [
            "build",
            "--select",
            "+dq_row_reconciliation",
            "+dq_quarantined_rows",
            "--vars",
            "{max_quarantine_share: 1}",
        ],
        raw_dir,
        work / "warehouse.duckdb",
        work,
    )
    assert result.returncode == 0, result.stdout[-8000:]
    return Warehouse(work / "warehouse.duckdb", raw_dir, result), numbers


@pytest.mark.parametrize("case", TRANSACTION_CASES, ids=kinds(TRANSACTION_CASES))
def test_transaction_defect_gets_its_fate(transactions_build, case: Case) -> None:
    warehouse, numbers = transactions_build
    assert_fates(warehouse, case, numbers[case.kind])


def test_every_transaction_row_is_accounted_for(transactions_build) -> None:
    warehouse, _ = transactions_build
    row = warehouse.query(
        "select * from marts.dq_row_reconciliation where source_table = 'transactions'"
    ).iloc[0]
    in_file = count_file_rows(warehouse.data_dir / "transactions.csv")
    assert in_file == sum(len(case.rows) for case in TRANSACTION_CASES)
    assert row["count_rows_in"] == in_file
    assert row["count_kept"] + row["count_merged"] + row["count_quarantined"] == (
        in_file
    )
