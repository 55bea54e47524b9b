"""Hostile text: a value with line breaks, quotes, SQL, control characters
or a megabyte of text is kept exactly, and nothing in it is executed
(issue 18). docs/bad_input.md lists each case.

The cases are planted in the shared data set (planted.py), built once.
"""

from __future__ import annotations

import pytest
from helpers import Warehouse
from planted import (
    BIG_ORDERS,
    Case,
    Row,
    assert_planted_case,
    kept_value,
    kinds,
    one_value,
    valid_order,
)

SQL_TEXT = "Robert'); drop table raw.orders; --"
CONTROL_TEXT = "bell\x07 escape\x1b[31m nul\x00 tab\t unit\x1f end"
MULTILINE_TEXT = 'line one\nline two, with a comma and "quotes"\r\nline three'
ONE_MB = 1_000_000


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


PLANTED: list[Case] = [
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
]


@pytest.mark.parametrize("case", PLANTED, ids=kinds(PLANTED))
def test_defect_is_quarantined_or_kept_and_the_build_stays_green(
    planted_build, case: Case
) -> None:
    assert_planted_case(planted_build, case)
