"""Hostile dates: text that is no date, impossible, infinite, far in the
future or the past, a spreadsheet's zero date or a ticket resolved before it
was opened each get their answer (issue 18). docs/bad_input.md lists each
case.

The cases are planted in the shared data set (planted.py), built once.
"""

from __future__ import annotations

import pytest
from helpers import Warehouse
from planted import (
    Case,
    Row,
    assert_planted_case,
    kept_value,
    kinds,
    valid_order,
)


def check_birth_date_empty(warehouse: Warehouse, rows: list[int]) -> None:
    birth = warehouse.query(kept_value("crm_contacts", "birth_date", rows[0]))
    assert birth.iloc[0, 0] is None or str(birth.iloc[0, 0]) in ("NaT", "None")


PLANTED: list[Case] = [
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
]


@pytest.mark.parametrize("case", PLANTED, ids=kinds(PLANTED))
def test_defect_is_quarantined_or_kept_and_the_build_stays_green(
    planted_build, case: Case
) -> None:
    assert_planted_case(planted_build, case)
