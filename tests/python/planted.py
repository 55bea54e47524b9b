"""The shared data set of planted defects: defects that must not stop a build,
planted into one generated data set and built once, end to end
(conftest.py's ``planted_build``).

Each test_hostile_<concern>.py file lists its cases in ``PLANTED`` and
checks them against that one build; ``CONCERNS`` names those files, and
the build plants the cases of all of them whichever tests run, so every
test sees the same data set. A case is a defect kind: its rows (each with
the fate it must get), an optional change to its whole file (file-level
defects) and an optional check of what the build made of it. Cases may
point at each other's rows: the valid order ADV-O1, account ADV-A1,
product ADV-P1 and contact ADV-C1 that other rows refer to are cases too
(test_hostile_reference.py, test_hostile_file.py).
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from helpers import Warehouse, read_table, write_table

from crm_analytics.contract import load_contract

#: The test modules whose ``PLANTED`` cases make up the shared data set.
CONCERNS = (
    "test_hostile_reference",
    "test_hostile_file",
    "test_hostile_text",
    "test_hostile_identity",
    "test_hostile_date",
    "test_hostile_value",
    "test_hostile_volume",
)

RAW_TABLES = [table.name for table in load_contract()]
VALIDATED = {
    "crm_contacts": "int_crm_contacts_validated",
    "shop_accounts": "int_shop_accounts_validated",
    "orders": "int_orders_validated",
    "order_lines": "int_order_lines_validated",
    "products": "int_products_validated",
    "order_reviews": "int_order_reviews_validated",
    "tickets": "int_tickets_validated",
    "survey_responses": "int_survey_responses_validated",
    "web_events": "int_web_events_validated",
    "email_events": "int_email_events_validated",
    "transactions": "int_transactions_validated",
}
#: Orders of the one big customer (test_hostile_volume.py): raw.orders holds
#: more rows than this when the data set is intact.
BIG_ORDERS = 100_000

Table = tuple[list[str], list[list[str]]]


@dataclass
class Row:
    """One planted raw row and the fate it must get."""

    cells: dict[str, str]
    status: str = "kept"
    reason: str | None = None


@dataclass
class Case:
    """One defect kind planted in the shared data set. ``rewrite`` changes
    the case's whole file (header and rows, every case's rows included)
    and ``encoding`` is the one it is written in: file-level defects."""

    kind: str
    table: str
    rows: list[Row] = field(default_factory=list)
    check: Callable[[Warehouse, list[int]], None] | None = None
    rewrite: Callable[[list[str], list[list[str]]], Table] | None = None
    encoding: str = "utf-8"


def kinds(cases: list[Case]) -> list[str]:
    """Test ids of ``cases``."""
    return [case.kind for case in cases]


def valid_order(order_id: str, account_id: str = "ADV-A1", **values) -> dict:
    return {
        "order_id": order_id,
        "account_id": account_id,
        "ordered_at": "2024-03-01 10:00:00",
        "status": "completed",
        "channel": "web",
        "discount_amount": "0.00",
        "shipping_amount": "4.90",
        "updated_at": "2024-03-02 10:00:00",
        **values,
    }


def valid_line(order_id: str, line_number: str, **values) -> dict:
    return {
        "order_id": order_id,
        "line_number": line_number,
        "product_id": "ADV-P1",
        "quantity": "2",
        "unit_price": "10.00",
        "line_discount": "0.00",
        **values,
    }


def one_value(warehouse: Warehouse, sql: str):
    return warehouse.query(sql).iloc[0, 0]


def kept_value(table: str, column: str, row: int) -> str:
    return (
        f"select {column} from intermediate.{VALIDATED[table]} "
        f"where source_row_number = {row}"
    )


def planted_cases() -> list[Case]:
    """Every case of every concern, in the order of CONCERNS."""
    cases = [
        case
        for concern in CONCERNS
        for case in importlib.import_module(concern).PLANTED
    ]
    twice = [kind for kind, count in Counter(kinds(cases)).items() if count > 1]
    assert not twice, f"case kinds planted twice: {sorted(twice)}"
    return cases


@dataclass
class Planted:
    """The shared data set: where each case's rows landed."""

    raw_dir: Path
    rows: dict[str, list[int]]


def plant(raw_dir: Path, cases: list[Case]) -> Planted:
    """Append every case's rows to the generated files (row numbers are
    then known), and apply the file-level defects."""
    tables = {path.stem: read_table(path) for path in sorted(raw_dir.glob("*.csv"))}
    planted: dict[str, list[int]] = {}
    for case in cases:
        header, rows = tables[case.table]
        numbers = []
        for row in case.rows:
            unknown = set(row.cells) - set(header)
            assert not unknown, (case.kind, unknown)
            rows.append([row.cells.get(column, "") for column in header])
            numbers.append(len(rows))
        planted[case.kind] = numbers
    for name, (header, rows) in tables.items():
        out_header, out_rows, encoding = list(header), rows, "utf-8"
        for case in cases:
            if case.table != name:
                continue
            if case.rewrite is not None:
                out_header, out_rows = case.rewrite(out_header, out_rows)
            if case.encoding != "utf-8":
                assert encoding == "utf-8", f"two encodings for {name}"
                encoding = case.encoding
        write_table(raw_dir / f"{name}.csv", out_header, out_rows, encoding=encoding)
    return Planted(raw_dir, planted)


def assert_fates(warehouse: Warehouse, case: Case, numbers: list[int]) -> None:
    """Each planted row got its fate in triage, and each quarantined one is
    listed in dq_quarantined_rows with the same reason."""
    expected = pd.DataFrame(
        {
            "source_row_number": numbers,
            "row_status": [row.status for row in case.rows],
            "dq_reason": [row.reason or "" for row in case.rows],
        }
    )
    fates = warehouse.query(
        "select source_row_number, row_status, coalesce(dq_reason, '') "
        f"as dq_reason from intermediate.{VALIDATED[case.table]} "
        f"where source_row_number between {min(numbers)} and {max(numbers)}"
    )
    got = expected[["source_row_number"]].merge(fates, how="left")
    wrong = expected.compare(got)
    assert wrong.empty, (case.kind, wrong.head(10).to_string())
    listed = warehouse.query(
        "select source_row_number, dq_reason from marts.dq_quarantined_rows "
        f"where source_table = '{case.table}' and source_row_number "
        f"between {min(numbers)} and {max(numbers)} order by 1"
    )
    quarantined = expected[expected["row_status"] == "quarantined"]
    assert (
        listed.to_numpy().tolist()
        == quarantined[["source_row_number", "dq_reason"]].to_numpy().tolist()
    )


def assert_planted_case(planted_build: tuple[Warehouse, Planted], case: Case) -> None:
    """The case's rows got their fates and its check holds, in the shared
    build."""
    warehouse, planted = planted_build
    assert case.kind in planted.rows, (
        f"{case.kind} is not in the shared data set: list its module in "
        "planted.CONCERNS"
    )
    numbers = planted.rows[case.kind]
    if case.rows:
        assert_fates(warehouse, case, numbers)
    if case.check is not None:
        case.check(warehouse, numbers)
