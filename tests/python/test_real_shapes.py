"""End to end: shapes real exports have and the generator does not write.

- Every raw table with only its required columns (optional means optional):
  the build is green, no row is lost for want of an optional column, and
  metrics without evidence say unknown.
- Refunds in their real forms: a credit document with negative quantities
  and an order-level refunded amount net against the sale they refund.
- A file whose rows are mostly quarantined stops the build with its top
  reasons and an example row, and the serving file is not touched.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import build, build_fixture, generate

from crm_analytics.contract import PROJECT_DIR, load_contract
from crm_analytics.settings import dbt_environment

pytestmark = pytest.mark.e2e


def strip_to_required(source: Path, target: Path) -> None:
    """Copy every contract CSV of ``source`` keeping only its required columns."""
    target.mkdir(parents=True, exist_ok=True)
    for table in load_contract():
        path = source / f"{table.name}.csv"
        if not path.exists():
            continue
        required = [column.name for column in table.columns if column.required]
        with (
            path.open(newline="", encoding="utf-8") as reader_file,
            (target / path.name).open("w", newline="", encoding="utf-8") as out,
        ):
            writer = csv.DictWriter(out, required, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(csv.DictReader(reader_file))


@build_fixture(scope="module")
def required_only(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("required_only")
    full = generate(root / "full", "--customers", "400", "--seed", "7")
    strip_to_required(full / "raw", root / "data" / "raw")
    return build(root / "data", root / "build"), full


def test_required_columns_only_lose_no_order(required_only):
    warehouse, full = required_only
    raw_orders = pd.read_csv(full / "raw" / "orders.csv", dtype=str)
    fates = warehouse.query(
        "select dq_reason, count(*) as n from marts.dq_quarantined_rows "
        "where source_table = 'orders' group by 1"
    ).set_index("dq_reason")["n"]
    # an absent status means completed: nothing is quarantined for it
    assert "invalid_status" not in fates.index
    reconciliation = warehouse.query(
        "select * from marts.dq_row_reconciliation where source_table = 'orders'"
    ).iloc[0]
    assert reconciliation["count_rows_in"] == len(raw_orders)
    # only the generator's planted row defects (bad keys, times, accounts)
    assert reconciliation["count_quarantined"] / len(raw_orders) < 0.1
    orders = warehouse.query("select * from marts.fct_orders")
    assert len(orders) == reconciliation["count_kept"]
    assert set(orders["order_status"]) == {"completed"}
    assert orders["is_completed"].mean() > 0.95


def test_required_columns_only_fill_the_marts(required_only):
    warehouse, _ = required_only
    for table in (
        "dim_customers",
        "dim_customer_rfm",
        "dim_customer_value",
        "fct_order_items",
        "fct_kpi_monthly",
        "fct_customer_clv_predictions",
    ):
        count = warehouse.query(f"select count(*) as n from marts.{table}")["n"][0]
        assert count > 0, table


def test_required_columns_only_say_unknown_without_evidence(required_only):
    warehouse, _ = required_only
    preferences = warehouse.query(
        "select price_sensitivity, pct_lines_discounted, top_category "
        "from marts.dim_customer_preferences"
    )
    assert len(preferences) > 0
    # no discount columns, no categories: no evidence, so no class
    assert set(preferences["price_sensitivity"]) == {"unknown"}
    assert preferences["pct_lines_discounted"].isna().all()
    assert set(preferences["top_category"]) == {"unknown"}
    category_metrics = warehouse.query(
        "select * from marts.fct_ml_model_metrics "
        "where model_name = 'purchase_propensity' and metric_name like 'category%'"
    )
    assert category_metrics.empty


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)


@build_fixture(scope="module")
def refunds_warehouse(tmp_path_factory: pytest.TempPathFactory):
    """Three buyers: A buys 81,000 units and credits them 12 minutes later
    (Online Retail's C invoice, no reference to the order); B is refunded 30
    of a 100 order (Shopify's Refunded Amount, partially_refunded); C buys
    twice and is never refunded."""
    raw = tmp_path_factory.mktemp("refunds") / "data" / "raw"
    write_csv(raw / "shop_accounts.csv", ["account_id"], [["A"], ["B"], ["C"]])
    write_csv(raw / "products.csv", ["product_id"], [["P1"], ["P2"]])
    write_csv(
        raw / "orders.csv",
        ["order_id", "account_id", "ordered_at", "status", "refunded_amount"],
        [
            ["A1", "A", "2024-01-10 09:00:00", "", ""],
            ["A2", "A", "2024-01-10 09:12:00", "credit_note", ""],
            ["A3", "A", "2024-03-01 10:00:00", "", ""],
            ["B1", "B", "2024-01-15 10:00:00", "Partially Refunded", "30.00"],
            ["C1", "C", "2024-01-20 10:00:00", "paid", ""],
            ["C2", "C", "2024-03-05 10:00:00", "fulfilled", ""],
        ],
    )
    write_csv(
        raw / "order_lines.csv",
        ["order_id", "line_number", "product_id", "quantity", "unit_price"],
        [
            ["A1", 1, "P1", 80995, "2.08"],
            ["A1", 2, "P2", 5, "1.25"],
            ["A2", 1, "P1", -80995, "2.08"],
            ["A3", 1, "P2", 4, "1.25"],
            ["B1", 1, "P1", 1, "100.00"],
            ["C1", 1, "P2", 8, "1.25"],
            ["C2", 1, "P2", 2, "0.0015"],
        ],
    )
    return build(raw.parent, raw.parent.parent / "build")


def test_credit_note_and_refunded_amount_net_against_their_sale(refunds_warehouse):
    orders = refunds_warehouse.query(
        "select order_id, order_status, gross_revenue, refunded_amount, "
        "net_revenue from marts.fct_orders order by order_id"
    ).set_index("order_id")
    # the credit note is a refund, not an order
    assert "A2" not in orders.index
    assert orders.loc["A1", "gross_revenue"] == pytest.approx(80995 * 2.08 + 6.25)
    assert orders.loc["A1", "refunded_amount"] == pytest.approx(80995 * 2.08)
    assert orders.loc["A1", "net_revenue"] == pytest.approx(6.25)
    assert orders.loc["B1", "net_revenue"] == pytest.approx(70)
    assert orders.loc["B1", "order_status"] == "completed"
    # 4-decimal prices: 2 x 0.0015 is 0.003, 0.00 in cents, and the line kept
    assert orders.loc["C2", "gross_revenue"] == pytest.approx(0.0, abs=0.005)
    refunds = refunds_warehouse.query(
        "select refund_id, order_id, refund_source, match_method, refund_amount "
        "from marts.fct_refunds order by refund_id"
    ).set_index("refund_id")
    assert refunds.loc["A2", "order_id"] == "A1"
    assert refunds.loc["A2", "match_method"] == "latest_sale_with_product"
    assert refunds.loc["B1:refund", "refund_source"] == "order_refund"
    assert refunds.loc["B1:refund", "refund_amount"] == pytest.approx(30)


def test_a_refunded_bulk_buyer_is_not_top_value(refunds_warehouse):
    value = refunds_warehouse.query(
        "select customer_id, lifetime_net_revenue, value_tier "
        "from marts.dim_customer_value"
    )
    identity = refunds_warehouse.query(
        "select source_customer_id, customer_id "
        "from intermediate.int_customer_identity_map where source_system = 'shop'"
    )
    customer = dict(
        zip(identity["source_customer_id"], identity["customer_id"], strict=True)
    )
    value = value.set_index("customer_id")
    # A's net is the 5 units kept plus the later 4: 6.25 + 5.00
    assert value.loc[customer["A"], "lifetime_net_revenue"] == pytest.approx(11.25)
    assert value.loc[customer["B"], "lifetime_net_revenue"] == pytest.approx(70)
    assert value["lifetime_net_revenue"].idxmax() == customer["B"]
    rfm = refunds_warehouse.query(
        "select customer_id, monetary_value from marts.dim_customer_rfm"
    ).set_index("customer_id")
    assert rfm.loc[customer["A"], "monetary_value"] < 10


def test_monthly_revenue_counts_refunds_in_their_month(refunds_warehouse):
    kpis = refunds_warehouse.query(
        "select kpi_month, sum_net_revenue, sum_refunded_amount "
        "from marts.fct_kpi_monthly order by 1"
    )
    total_net = refunds_warehouse.query(
        "select sum(net_revenue) as n from marts.fct_orders"
    )["n"][0]
    assert kpis["sum_net_revenue"].sum() == pytest.approx(float(total_net))
    january = kpis.iloc[0]
    assert january["sum_refunded_amount"] == pytest.approx(80995 * 2.08 + 30)


def test_a_mostly_quarantined_table_stops_the_build(tmp_path: Path):
    raw = tmp_path / "raw"
    write_csv(raw / "shop_accounts.csv", ["account_id"], [["A"], ["B"]])
    write_csv(
        raw / "orders.csv",
        ["order_id", "account_id", "ordered_at", "status"],
        [
            ["O1", "A", "2024-01-10 09:00:00", "Shipped Late"],
            ["O2", "A", "2024-01-11 09:00:00", "Shipped Late"],
            ["O3", "B", "2024-01-12 09:00:00", "paid"],
        ],
    )
    write_csv(
        raw / "order_lines.csv",
        ["order_id", "line_number", "product_id", "quantity", "unit_price"],
        [["O3", 1, "P1", 1, "5"]],
    )
    write_csv(raw / "products.csv", ["product_id"], [["P1"]])
    serving = tmp_path / "serving.duckdb"
    env = dbt_environment(
        raw_dir=raw,
        serving_path=serving,
        temp_dir=tmp_path / "duckdb_tmp",
        target_path=tmp_path / "target",
        log_path=tmp_path / "logs",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crm_analytics.publish",
            "--build-path",
            str(tmp_path / "build.duckdb"),
            "--serving-path",
            str(serving),
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "assert_raw_tables__mostly_kept" in output
    assert "source_table=orders" in output
    assert "invalid_status: 2 rows" in output
    assert "status shipped_late is not in seeds/order_status_map.csv" in output
    assert not serving.exists()
