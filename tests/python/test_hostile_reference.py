"""Hostile references: a row that points at an account, contact, order or
product nobody has, or at an order that was quarantined, is quarantined with
the reason (issue 18). docs/bad_input.md lists each case.

The cases are planted in the shared data set (planted.py), built once. The
valid rows here are the ones other cases point at: account ADV-A1 (and the
big buyer ADV-A9 of test_hostile_volume.py), order ADV-O1 and its one good
line; product ADV-P1 and contact ADV-C1 are planted by test_hostile_file.py,
order ADV-O6 (quarantined) by test_hostile_value.py.
"""

from __future__ import annotations

import pytest
from planted import (
    Case,
    Row,
    assert_planted_case,
    kinds,
    valid_line,
    valid_order,
)

PLANTED: list[Case] = [
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
    # The order the order lines of the cases belong to, and its one good line.
    Case(
        "valid_order_with_lines",
        "orders",
        [Row(valid_order("ADV-O1"))],
    ),
    Case("valid_order_line", "order_lines", [Row(valid_line("ADV-O1", "1"))]),
]


@pytest.mark.parametrize("case", PLANTED, ids=kinds(PLANTED))
def test_defect_is_quarantined_or_kept_and_the_build_stays_green(
    planted_build, case: Case
) -> None:
    assert_planted_case(planted_build, case)
