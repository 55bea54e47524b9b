"""Hostile keys: the same key twice keeps one row (the latest, or the last)
and merges the other; an empty key, the word NULL as a key, a key with
spaces around it each get their answer (issue 18). docs/bad_input.md lists
each case.

The cases are planted in the shared data set (planted.py), built once.
"""

from __future__ import annotations

import pytest
from helpers import Warehouse
from planted import (
    VALIDATED,
    Case,
    Row,
    assert_planted_case,
    kept_value,
    kinds,
    one_value,
    valid_order,
)


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


PLANTED: list[Case] = [
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
]


@pytest.mark.parametrize("case", PLANTED, ids=kinds(PLANTED))
def test_defect_is_quarantined_or_kept_and_the_build_stays_green(
    planted_build, case: Case
) -> None:
    assert_planted_case(planted_build, case)
