"""Volume: one customer with 100,000 orders (and their lines) is kept in
full and the build, ML included, stays green (issue 18).
docs/bad_input.md lists each case.

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
    kinds,
    valid_line,
    valid_order,
)


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


PLANTED: list[Case] = [
    Case("one_customer_100k_orders", "orders", big_orders(), check=check_big_customer),
    Case("lines_of_100k_orders", "order_lines", big_lines()),
]


@pytest.mark.parametrize("case", PLANTED, ids=kinds(PLANTED))
def test_defect_is_quarantined_or_kept_and_the_build_stays_green(
    planted_build, case: Case
) -> None:
    assert_planted_case(planted_build, case)
