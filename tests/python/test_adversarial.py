"""Bad input: every kind of defect gets a clear answer, and no row vanishes.

Either the row is quarantined with a reason and the build stays green, or
the build stops with one message naming the file, the row or column and
what to fix (never a traceback or a raw database error). docs/bad_input.md
lists every case tried and what it gets.

To stay fast, the defects that do not stop a build are all planted in one
generated data set (each in its own rows, or its own file for file-level
ones), which is built once, end to end, in a raw directory whose path holds
quotes and spaces. The defects that stop a build are planted in one set of
small files (each defect in its own file) and run once through
``python -m crm_analytics.publish`` (what ``make build`` runs); bad settings
take a few more runs. Each defect kind is its own test.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from helpers import (
    RAW_ERROR_WORDS,
    Warehouse,
    assert_one_clear_stop,
    count_file_rows,
    generate,
    publish_run,
    read_table,
    run_dbt,
    write_table,
)

from crm_analytics.contract import load_contract

pytestmark = pytest.mark.e2e

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
BIG_ORDERS = 100_000
ONE_MB = 1_000_000
SQL_TEXT = "Robert'); drop table raw.orders; --"
CONTROL_TEXT = "bell\x07 escape\x1b[31m nul\x00 tab\t unit\x1f end"
MULTILINE_TEXT = 'line one\nline two, with a comma and "quotes"\r\nline three'


# --- defects that must not stop the build ------------------------------------


@dataclass
class Row:
    """One planted raw row and the fate it must get."""

    cells: dict[str, str]
    status: str = "kept"
    reason: str | None = None


@dataclass
class Case:
    """One defect kind planted in the shared data set."""

    kind: str
    table: str
    rows: list[Row] = field(default_factory=list)
    check: Callable[[Warehouse, list[int]], None] | None = None


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


def check_text_kept_exactly(table: str, column: str, expected: str):
    def check(warehouse: Warehouse, rows: list[int]) -> None:
        assert one_value(warehouse, kept_value(table, column, rows[0])) == expected

    return check


def check_sql_text_harmless(warehouse: Warehouse, rows: list[int]) -> None:
    check_text_kept_exactly("shop_accounts", "full_name", SQL_TEXT)(warehouse, rows)
    assert one_value(warehouse, "select count(*) from raw.orders") > BIG_ORDERS


def check_sql_key(warehouse: Warehouse, rows: list[int]) -> None:
    order_id = "ADV-O10" + SQL_TEXT
    assert one_value(warehouse, kept_value("orders", "order_id", rows[0])) == order_id
    assert (
        one_value(
            warehouse,
            "select count(*) from marts.fct_orders where order_id = "
            "'ADV-O10Robert''); drop table raw.orders; --'",
        )
        == 1
    )


def check_control_text(warehouse: Warehouse, rows: list[int]) -> None:
    comment = one_value(
        warehouse, kept_value("survey_responses", "response_comment", rows[0])
    )
    assert comment == CONTROL_TEXT


def check_long_text(warehouse: Warehouse, rows: list[int]) -> None:
    length = one_value(
        warehouse,
        "select length(response_comment) from marts.fct_survey_responses "
        "where response_id = 'ADV-R5'",
    )
    assert length == ONE_MB


def check_winner(table: str, column: str, expected: object):
    def check(warehouse: Warehouse, rows: list[int]) -> None:
        kept = warehouse.query(
            f"select {column} from intermediate.{VALIDATED[table]} "
            f"where source_row_number in ({', '.join(map(str, rows))}) "
            "and row_status = 'kept'"
        )
        assert kept[column].tolist() == [expected]

    return check


def check_trimmed_key(warehouse: Warehouse, rows: list[int]) -> None:
    key = one_value(warehouse, kept_value("crm_contacts", "contact_id", rows[0]))
    assert key == "ADV-C3"


def check_birth_date_empty(warehouse: Warehouse, rows: list[int]) -> None:
    birth = warehouse.query(kept_value("crm_contacts", "birth_date", rows[0]))
    assert birth.iloc[0, 0] is None or str(birth.iloc[0, 0]) in ("NaT", "None")


def check_country_mapping(warehouse: Warehouse, rows: list[int]) -> None:
    codes = warehouse.query(
        "select source_customer_id, coalesce(country_code, '') "
        "from intermediate.int_customer_records_standardised "
        "where source_customer_id like 'ADV-C3_' order by 1"
    )
    assert codes.to_numpy().tolist() == [
        ["ADV-C30", ""],
        ["ADV-C31", ""],
        ["ADV-C32", "JP"],
        ["ADV-C33", "IE"],
        ["ADV-C34", "BR"],
        ["ADV-C35", "ZA"],
    ]
    unmapped = warehouse.query(
        "select raw_value, count_rows, example_record_key "
        "from marts.dq_unmapped_values "
        "where source_table = 'crm_contacts' and column_name = 'country'"
    )
    assert unmapped.to_numpy().tolist() == [["Channel Islands", 2, "ADV-C30"]]


def check_big_customer(warehouse: Warehouse, rows: list[int]) -> None:
    summary = warehouse.query(
        "select customers.count_orders, customers.lifetime_net_revenue "
        "from marts.dim_customers as customers "
        "inner join intermediate.int_customer_identity_map as identity_map "
        "on customers.customer_id = identity_map.customer_id "
        "where identity_map.source_system = 'shop' "
        "and identity_map.source_customer_id = 'ADV-A9'"
    )
    assert len(summary) == 1
    assert int(summary["count_orders"].iloc[0]) == BIG_ORDERS
    assert float(summary["lifetime_net_revenue"].iloc[0]) == pytest.approx(
        BIG_ORDERS * 10.0
    )


def big_orders() -> list[Row]:
    return [
        Row(
            valid_order(
                f"ADV-BIG-{i:06d}",
                "ADV-A9",
                ordered_at=f"2023-{1 + i % 12:02d}-{1 + i % 28:02d} "
                f"{i % 24:02d}:{i % 60:02d}:00",
                shipping_amount="0.00",
                updated_at="",
            )
        )
        for i in range(BIG_ORDERS)
    ]


def big_lines() -> list[Row]:
    return [
        Row(valid_line(f"ADV-BIG-{i:06d}", "1", quantity="1"))
        for i in range(BIG_ORDERS)
    ]


CASES: list[Case] = [
    # The reference rows the other cases point at (valid, kept).
    Case(
        "valid_reference_rows",
        "shop_accounts",
        [
            Row(
                {
                    "account_id": "ADV-A1",
                    "full_name": "Ada Lovelace",
                    "email": "ada@example.org",
                    "registered_at": "2022-01-01 10:00:00",
                    "updated_at": "2022-01-01 10:00:00",
                }
            ),
            Row({"account_id": "ADV-A9", "full_name": "Big Buyer"}),
        ],
    ),
    # File-level defects, one table each.
    Case("extra_column", "shop_accounts", check=check_extra_column_ignored),
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
    ),
    Case("header_in_other_case_and_padded", "orders", check=check_header_case),
    Case("optional_column_missing", "tickets", check=check_missing_optional),
    Case("header_only_file", "email_events", check=check_header_only),
    # Text.
    Case(
        "embedded_newline_in_quoted_value",
        "survey_responses",
        [
            Row(
                {
                    "response_id": "ADV-R1",
                    "contact_id": "ADV-C1",
                    "responded_at": "2024-03-05 10:00:00",
                    "nps_score": "9",
                    "comment": MULTILINE_TEXT,
                }
            )
        ],
        check=check_text_kept_exactly(
            "survey_responses", "response_comment", MULTILINE_TEXT
        ),
    ),
    Case(
        "sql_text_in_value",
        "shop_accounts",
        [Row({"account_id": "ADV-A2", "full_name": SQL_TEXT})],
        check=check_sql_text_harmless,
    ),
    Case(
        "sql_text_in_key",
        "orders",
        [Row(valid_order("ADV-O10" + SQL_TEXT))],
        check=check_sql_key,
    ),
    Case(
        "control_characters_in_text",
        "survey_responses",
        [
            Row(
                {
                    "response_id": "ADV-R6",
                    "contact_id": "ADV-C1",
                    "responded_at": "2024-03-05 10:00:00",
                    "comment": CONTROL_TEXT,
                }
            )
        ],
        check=check_control_text,
    ),
    Case(
        "one_megabyte_string",
        "survey_responses",
        [
            Row(
                {
                    "response_id": "ADV-R5",
                    "contact_id": "ADV-C1",
                    "responded_at": "2024-03-05 10:00:00",
                    "comment": "x" * ONE_MB,
                }
            )
        ],
        check=check_long_text,
    ),
    # Keys.
    Case(
        "duplicate_key_conflicting_values_contacts",
        "crm_contacts",
        [
            Row(
                {
                    "contact_id": "ADV-C2",
                    "email": "old@example.org",
                    "updated_at": "2023-01-01",
                },
                "merged",
                "duplicate",
            ),
            Row(
                {
                    "contact_id": "ADV-C2",
                    "email": "new@example.org",
                    "updated_at": "2024-01-01",
                }
            ),
        ],
        check=check_winner("crm_contacts", "email", "new@example.org"),
    ),
    Case(
        "duplicate_key_conflicting_values_orders",
        "orders",
        [
            Row(valid_order("ADV-O8", status="returned", updated_at="2024-04-01")),
            Row(
                valid_order("ADV-O8", status="completed", updated_at="2024-03-02"),
                "merged",
                "duplicate",
            ),
        ],
        check=check_winner("orders", "order_status", "returned"),
    ),
    Case(
        "duplicate_key_conflicting_values_products",
        "products",
        [
            Row({"product_id": "ADV-P5", "list_price": "5.00"}, "merged", "duplicate"),
            Row({"product_id": "ADV-P5", "list_price": "7.00"}),
        ],
        check=check_winner("products", "list_price", 7.0),
    ),
    Case(
        "exact_duplicate_rows",
        "web_events",
        [
            Row(
                {
                    "event_id": "ADV-W5",
                    "event_type": "session_start",
                    "occurred_at": "2024-03-01 10:00:00",
                },
                "merged",
                "duplicate",
            ),
            Row(
                {
                    "event_id": "ADV-W5",
                    "event_type": "session_start",
                    "occurred_at": "2024-03-01 10:00:00",
                }
            ),
        ],
    ),
    Case(
        "empty_key",
        "orders",
        [Row(valid_order(""), "quarantined", "missing_required_field")],
    ),
    Case(
        "null_word_as_key",
        "tickets",
        [
            Row(
                {
                    "ticket_id": "NULL",
                    "contact_id": "ADV-C1",
                    "opened_at": "2024-03-01 10:00:00",
                },
                "quarantined",
                "missing_required_field",
            )
        ],
    ),
    Case(
        "key_with_surrounding_spaces",
        "crm_contacts",
        [Row({"contact_id": "  ADV-C3 \t"})],
        check=check_trimmed_key,
    ),
    # Dates.
    Case(
        "timestamp_not_a_date",
        "orders",
        [
            Row(
                valid_order("ADV-O2", ordered_at="next week"),
                "quarantined",
                "invalid_timestamp",
            )
        ],
    ),
    Case(
        "impossible_calendar_date",
        "orders",
        [
            Row(
                valid_order("ADV-O5", ordered_at="2024-02-30"),
                "quarantined",
                "invalid_timestamp",
            )
        ],
    ),
    Case(
        "far_future_timestamp",
        "orders",
        [
            Row(
                valid_order("ADV-O3", ordered_at="2999-01-01 00:00:00"),
                "quarantined",
                "future_timestamp",
            )
        ],
    ),
    Case(
        "far_past_timestamp",
        "orders",
        [
            Row(
                valid_order("ADV-O4", ordered_at="0001-01-01"),
                "quarantined",
                "invalid_timestamp",
            )
        ],
    ),
    Case(
        "spreadsheet_zero_date",
        "tickets",
        [
            Row(
                {
                    "ticket_id": "ADV-T8",
                    "contact_id": "ADV-C1",
                    "opened_at": "1899-12-30",
                },
                "quarantined",
                "invalid_timestamp",
            )
        ],
    ),
    Case(
        "infinite_timestamps",
        "orders",
        [
            Row(
                valid_order("ADV-O11", ordered_at="-infinity"),
                "quarantined",
                "invalid_timestamp",
            ),
            Row(
                valid_order("ADV-O13", ordered_at="infinity"),
                "quarantined",
                "future_timestamp",
            ),
        ],
    ),
    Case(
        "country_no_alias_maps",
        "crm_contacts",
        [
            Row({"contact_id": "ADV-C30", "country": "Channel Islands"}),
            Row({"contact_id": "ADV-C31", "country": " Channel Islands "}),
            Row({"contact_id": "ADV-C32", "country": "  JAPAN "}),
            Row({"contact_id": "ADV-C33", "country": "Eire"}),
            Row({"contact_id": "ADV-C34", "country": "Brasil"}),
            Row({"contact_id": "ADV-C35", "country": "RSA"}),
        ],
        check=check_country_mapping,
    ),
    Case(
        "birth_date_in_far_past",
        "crm_contacts",
        [Row({"contact_id": "ADV-C4", "birth_date": "1850-01-01"})],
        check=check_birth_date_empty,
    ),
    Case(
        "resolved_before_opened",
        "tickets",
        [
            Row(
                {
                    "ticket_id": "ADV-T5",
                    "contact_id": "ADV-C1",
                    "opened_at": "2024-03-05 10:00:00",
                    "resolved_at": "2024-03-01 10:00:00",
                },
                "quarantined",
                "invalid_timestamp",
            )
        ],
    ),
    # Numbers.
    Case(
        "integer_as_words",
        "order_lines",
        [
            Row(
                valid_line("ADV-O1", "2", quantity="two"),
                "quarantined",
                "invalid_quantity",
            )
        ],
    ),
    Case(
        "fractional_integers",
        "order_lines",
        [
            Row(
                valid_line("ADV-O1", "3", quantity="2.5"),
                "quarantined",
                "invalid_quantity",
            ),
            Row(
                valid_line("ADV-O1", "1.5"),
                "quarantined",
                "invalid_number",
            ),
        ],
    ),
    Case(
        "negative_quantity",
        "order_lines",
        [
            Row(
                valid_line("ADV-O1", "4", quantity="-1"),
                "quarantined",
                "invalid_quantity",
            )
        ],
    ),
    Case(
        "negative_amounts",
        "products",
        [
            Row(
                {"product_id": "ADV-P4", "list_price": "-5.00"},
                "quarantined",
                "invalid_price",
            )
        ],
    ),
    Case(
        "negative_shipping",
        "orders",
        [
            Row(
                valid_order("ADV-O12", shipping_amount="-3.00"),
                "quarantined",
                "invalid_price",
            )
        ],
    ),
    Case(
        "money_as_words",
        "orders",
        [
            Row(
                valid_order("ADV-O9", discount_amount="ten"),
                "quarantined",
                "invalid_price",
            )
        ],
    ),
    Case(
        "nan_and_inf_in_numbers",
        "order_lines",
        [
            Row(
                valid_line("ADV-O1", "5", unit_price="NaN"),
                "quarantined",
                "missing_required_field",
            ),
            Row(
                valid_line("ADV-O1", "6", unit_price="inf"),
                "quarantined",
                "invalid_price",
            ),
            Row(
                valid_line("ADV-O1", "14", unit_price="-Infinity"),
                "quarantined",
                "invalid_price",
            ),
        ],
    ),
    Case(
        "exponent_and_decimal_comma_money",
        "products",
        [
            Row(
                {"product_id": "ADV-P2", "list_price": "1e5"},
                "quarantined",
                "invalid_price",
            ),
            Row(
                {"product_id": "ADV-P3", "list_price": "1.234,56"},
                "quarantined",
                "invalid_price",
            ),
        ],
    ),
    Case(
        "amount_too_large_for_decimal",
        "order_lines",
        [
            Row(
                valid_line("ADV-O1", "7", unit_price="99999999999999999999"),
                "quarantined",
                "invalid_price",
            )
        ],
    ),
    Case(
        "absurd_price_against_list_price",
        "order_lines",
        [
            Row(
                valid_line("ADV-O1", "8", unit_price="5000.00"),
                "quarantined",
                "invalid_price",
            )
        ],
    ),
    Case(
        "discount_above_line_value",
        "order_lines",
        [
            Row(
                valid_line("ADV-O1", "10", line_discount="50.00"),
                "quarantined",
                "invalid_price",
            )
        ],
    ),
    Case(
        "scores_out_of_range",
        "survey_responses",
        [
            Row(
                {
                    "response_id": "ADV-R2",
                    "contact_id": "ADV-C1",
                    "responded_at": "2024-03-05",
                    "nps_score": "11",
                },
                "quarantined",
                "score_out_of_range",
            ),
            Row(
                {
                    "response_id": "ADV-R3",
                    "contact_id": "ADV-C1",
                    "responded_at": "2024-03-05",
                    "sat_product": "-1",
                },
                "quarantined",
                "score_out_of_range",
            ),
            Row(
                {
                    "response_id": "ADV-R4",
                    "contact_id": "ADV-C1",
                    "responded_at": "2024-03-05",
                    "nps_score": "7.5",
                },
                "quarantined",
                "score_out_of_range",
            ),
        ],
    ),
    Case(
        "csat_out_of_range_and_infinite",
        "tickets",
        [
            Row(
                {
                    "ticket_id": f"ADV-T{n}",
                    "contact_id": "ADV-C1",
                    "opened_at": "2024-03-01 10:00:00",
                    "resolved_at": "2024-03-01 12:00:00",
                    "csat_score": score,
                },
                "quarantined",
                "score_out_of_range",
            )
            for n, score in ((2, "0"), (3, "6"), (4, "inf"))
        ],
    ),
    # References.
    Case(
        "orphan_order_account",
        "orders",
        [
            Row(
                valid_order("ADV-O7", "ADV-NOBODY"),
                "quarantined",
                "unknown_customer",
            )
        ],
    ),
    Case(
        "orphan_line_order",
        "order_lines",
        [
            Row(
                valid_line("ADV-NOORDER", "1"),
                "quarantined",
                "unknown_order",
            )
        ],
    ),
    Case(
        "orphan_line_product",
        "order_lines",
        [
            Row(
                valid_line("ADV-O1", "9", product_id="ADV-NOPRODUCT"),
                "quarantined",
                "unknown_product",
            )
        ],
    ),
    Case(
        "orphan_ticket_contact",
        "tickets",
        [
            Row(
                {
                    "ticket_id": "ADV-T6",
                    "contact_id": "ADV-NOBODY",
                    "opened_at": "2024-03-01 10:00:00",
                },
                "quarantined",
                "unknown_customer",
            )
        ],
    ),
    Case(
        "orphan_web_event_account",
        "web_events",
        [
            Row(
                {
                    "event_id": "ADV-W3",
                    "account_id": "ADV-NOBODY",
                    "event_type": "product_view",
                    "occurred_at": "2024-03-01 10:00:00",
                },
                "quarantined",
                "unknown_customer",
            )
        ],
    ),
    Case(
        "line_of_a_quarantined_order",
        "order_lines",
        [
            Row(
                valid_line("ADV-O6", "1"),
                "quarantined",
                "parent_quarantined",
            )
        ],
    ),
    Case(
        "unknown_enumeration_value",
        "orders",
        [
            Row(
                valid_order("ADV-O6", status="teleported"),
                "quarantined",
                "invalid_status",
            )
        ],
    ),
    Case(
        "unknown_event_type",
        "web_events",
        [
            Row(
                {
                    "event_id": "ADV-W2",
                    "event_type": "hover",
                    "occurred_at": "2024-03-01 10:00:00",
                },
                "quarantined",
                "invalid_value",
            )
        ],
    ),
    # The order the order lines above belong to, and its one good line.
    Case(
        "valid_order_with_lines",
        "orders",
        [Row(valid_order("ADV-O1"))],
    ),
    Case("valid_order_line", "order_lines", [Row(valid_line("ADV-O1", "1"))]),
    # Volume.
    Case("one_customer_100k_orders", "orders", big_orders(), check=check_big_customer),
    Case("lines_of_100k_orders", "order_lines", big_lines()),
]


@dataclass
class Planted:
    """The shared data set: where each case's rows landed."""

    raw_dir: Path
    rows: dict[str, list[int]]


def plant(raw_dir: Path) -> Planted:
    """Append every case's rows to the generated files (row numbers are
    then known), and apply the file-level defects."""
    tables = {path.stem: read_table(path) for path in sorted(raw_dir.glob("*.csv"))}
    planted: dict[str, list[int]] = {}
    for case in CASES:
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
        if name == "shop_accounts":  # extra column
            out_header.append("loyalty_tier")
            out_rows = [[*row, "gold"] for row in rows]
        elif name == "crm_contacts":  # columns in reverse order
            out_header = out_header[::-1]
            out_rows = [row[::-1] for row in rows]
        elif name == "products":  # UTF-8 byte order mark
            encoding = "utf-8-sig"
        elif name == "orders":  # header in other case, padded
            out_header = [f" {column.upper()} " for column in header]
        elif name == "tickets":  # optional column dropped
            drop = header.index("priority")
            out_header.pop(drop)
            out_rows = [row[:drop] + row[drop + 1 :] for row in rows]
        elif name == "email_events":  # header only
            out_rows = []
        write_table(raw_dir / f"{name}.csv", out_header, out_rows, encoding=encoding)
    return Planted(raw_dir, planted)


@pytest.fixture(scope="session")
def planted_build(tmp_path_factory) -> tuple[Warehouse, Planted]:
    """The shared data set, built end to end once, in a raw directory whose
    path holds a quote, double quotes and spaces."""
    root = tmp_path_factory.mktemp("adversarial")
    generated = generate(root / "generated", "--customers", "200", "--seed", "11")
    raw_dir = root / 'it\'s "raw" data'
    shutil.copytree(generated / "raw", raw_dir)
    planted = plant(raw_dir)
    work = root / "build"
    work.mkdir()
    result = run_dbt(["build"], raw_dir, work / "warehouse.duckdb", work)
    assert result.returncode == 0, result.stdout[-8000:]
    return Warehouse(work / "warehouse.duckdb", raw_dir, result), planted


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


@pytest.mark.parametrize("case", CASES, ids=[case.kind for case in CASES])
def test_defect_is_quarantined_or_kept_and_the_build_stays_green(
    planted_build, case: Case
) -> None:
    warehouse, planted = planted_build
    numbers = planted.rows[case.kind]
    if case.rows:
        assert_fates(warehouse, case, numbers)
    if case.check is not None:
        case.check(warehouse, numbers)


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


def test_the_raw_dir_with_quotes_is_read_not_spliced(planted_build) -> None:
    warehouse, planted = planted_build
    files = warehouse.query("select distinct _source_file from raw.orders")
    assert list(files["_source_file"]) == [str(planted.raw_dir / "orders.csv")]


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


@pytest.fixture(scope="session")
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


@pytest.mark.parametrize(
    "case", TRANSACTION_CASES, ids=[case.kind for case in TRANSACTION_CASES]
)
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


@pytest.fixture(scope="session")
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


# --- settings are data too ---------------------------------------------------


@pytest.fixture(scope="session")
def bad_settings_output(tmp_path_factory) -> str:
    """One run with several bad settings at once: all are listed."""
    root = tmp_path_factory.mktemp("settings")
    raw_dir = root / "exports[1]"
    raw_dir.mkdir()
    (raw_dir / "transactions.csv").write_text(
        "customer_id,transacted_at,amount\nC1,2024-01-01,1\n"
    )
    work = root / "work"
    vars_text = (
        "{as_of_date: '2024-02-30', "
        "max_price_to_list_ratio: '100; drop table raw.orders'}"
    )
    # A bare dbt build: the dbt-side check (the publish checks the numeric
    # settings before dbt starts, tests/python/test_hostile_setting.py).
    result = run_dbt(
        ["build", "--select", "staging", "--vars", vars_text],
        raw_dir,
        work / "build.duckdb",
        work,
    )
    output = result.stdout
    assert result.returncode != 0, output[-4000:]
    assert output.count("Encountered an error") == 1, output[-4000:]
    for words in RAW_ERROR_WORDS:
        assert words not in output, output[-4000:]
    return output


@pytest.mark.parametrize(
    "expected",
    [
        "as_of_date must be a date written YYYY-MM-DD, got '2024-02-30'",
        "max_price_to_list_ratio must be a number from 1 to 1000000, "
        "got '100; drop table raw.orders'",
        "contains * ? [ or ], which DuckDB reads as a file pattern",
    ],
    ids=[
        "impossible_as_of_date",
        "sql_in_numeric_var",
        "glob_in_raw_dir",
    ],
)
def test_bad_setting_is_named(bad_settings_output: str, expected: str) -> None:
    assert expected in bad_settings_output


def test_as_of_date_that_is_sql_is_refused(tmp_path: Path) -> None:
    raw_dir = tmp_path / "raw"
    raw_dir.mkdir()
    (raw_dir / "transactions.csv").write_text(
        "customer_id,transacted_at,amount\nC1,2024-01-01,1\n"
    )
    value = "2024-06-30'); drop table raw.orders; --"
    result = publish_run(
        raw_dir, tmp_path / "work", "--vars", f'{{as_of_date: "{value}"}}'
    )
    output = assert_one_clear_stop(result, tmp_path / "work")
    assert f"as_of_date must be a date written YYYY-MM-DD, got '{value}'" in output


def test_missing_raw_dir_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no such dir"
    result = publish_run(missing, tmp_path / "work")
    output = assert_one_clear_stop(result, tmp_path / "work")
    assert f"raw_dir '{missing}' holds no files (or does not exist)" in output
    assert "Set CRM_RAW_DIR" in output
