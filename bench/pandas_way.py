"""The pandas way: RFM, value and loyalty per customer from the raw shop CSVs.

Written the way an analyst would in a notebook: read the files, clean what
obviously needs cleaning, group by customer. It computes the same summaries
as the marts dim_customer_rfm (frequency / recency / T / monetary value and
the R, F, M quintile scores), dim_customer_value (lifetime revenue, orders,
average order value, value tier) and dim_customer_loyalty (tenure, cadence,
share of wallet, loyalty score), with the same formulas, so that
bench/run.py can compare its time and peak memory with the SQL marts.

Simplifications against the warehouse (they make this script do *less*
work than dbt, never more): a shop account is the customer (no identity
resolution across CRM, shop and transactions), only the four shop files are
read, duplicates are dropped on the key keeping the latest ``updated_at``,
and rows failing the obvious checks are dropped without a reason.

    python bench/pandas_way.py --raw DIR --out DIR [--segment-map CSV]

Prints one JSON line with the phase timings and row counts.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent


def money(values: pd.Series) -> pd.Series:
    """'$1,299.00' -> 1299.0; anything unparseable -> NaN."""
    return pd.to_numeric(
        values.str.replace(r"[^0-9.\-]", "", regex=True), errors="coerce"
    )


def timestamps(values: pd.Series) -> pd.Series:
    """ISO 8601 first (fast); the few other spellings day-first, one by one."""
    parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)
    rest = parsed.isna() & values.notna()
    if rest.any():
        parsed[rest] = pd.to_datetime(
            values[rest], format="mixed", dayfirst=True, errors="coerce", utc=True
        )
    return parsed.dt.tz_localize(None)


def percent_rank(values: pd.Series, ascending: bool = True) -> pd.Series:
    """SQL percent_rank(): (rank - 1) / (n - 1), ties share the lowest rank."""
    n = len(values)
    if n <= 1:
        return pd.Series(0.0, index=values.index)
    return (values.rank(method="min", ascending=ascending) - 1) / (n - 1)


def quintile(values: pd.Series, ascending: bool = True) -> pd.Series:
    return np.minimum(5, 1 + np.floor(5 * percent_rank(values, ascending))).astype(
        "int64"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--segment-map", type=Path, default=REPO / "seeds" / "rfm_segment_map.csv"
    )
    args = parser.parse_args()
    phases: dict[str, float] = {}
    clock = time.perf_counter()
    started = clock

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        phases[name] = round(now - clock, 3)
        clock = now

    # --- read -----------------------------------------------------------
    orders = pd.read_csv(args.raw / "orders.csv", dtype=str)
    lines = pd.read_csv(args.raw / "order_lines.csv", dtype=str)
    products = pd.read_csv(args.raw / "products.csv", dtype=str)
    accounts = pd.read_csv(
        args.raw / "shop_accounts.csv", dtype=str, usecols=["account_id"]
    )
    segment_map = pd.read_csv(args.segment_map)
    rows_in = len(orders) + len(lines) + len(products) + len(accounts)
    lap("read_csv")

    # --- clean ----------------------------------------------------------
    accounts["account_id"] = accounts["account_id"].str.strip()
    accounts = accounts.dropna().drop_duplicates()

    orders["order_id"] = orders["order_id"].str.strip()
    orders["account_id"] = orders["account_id"].str.strip()
    orders["status"] = (
        orders["status"].str.strip().str.lower().replace({"canceled": "cancelled"})
    )
    orders["ordered_at"] = timestamps(orders["ordered_at"])
    orders["updated_at"] = timestamps(orders["updated_at"])
    orders["discount_amount"] = money(orders["discount_amount"]).fillna(0)
    orders = orders.dropna(subset=["order_id", "account_id", "ordered_at"])
    orders = orders[orders["ordered_at"] <= pd.Timestamp.now()]  # no future dates
    orders = orders[
        orders["status"].isin(["completed", "cancelled", "returned"])
        & (orders["discount_amount"] >= 0)
    ]
    orders = orders.merge(accounts, on="account_id")  # known customers only
    orders = orders.sort_values("updated_at").drop_duplicates("order_id", keep="last")

    lines["order_id"] = lines["order_id"].str.strip()
    lines["product_id"] = lines["product_id"].str.strip()
    lines["quantity"] = pd.to_numeric(lines["quantity"], errors="coerce")
    lines["unit_price"] = money(lines["unit_price"])
    lines["line_discount"] = money(lines["line_discount"]).fillna(0)
    lines = lines.dropna(subset=["order_id", "product_id", "quantity", "unit_price"])
    lines = lines[
        (lines["quantity"] > 0)
        & (lines["unit_price"] > 0)
        & (lines["line_discount"] >= 0)
        & (lines["line_discount"] <= lines["quantity"] * lines["unit_price"])
    ]
    lines = lines.drop_duplicates(["order_id", "line_number"], keep="last")
    lines = lines.merge(orders[["order_id"]], on="order_id")  # kept orders only

    products["product_id"] = products["product_id"].str.strip()
    products["category"] = products["category"].str.strip().str.lower()
    products["unit_cost"] = money(products["unit_cost"])
    products = products.drop_duplicates("product_id", keep="last")
    lap("clean")

    # --- orders with their money ----------------------------------------
    lines = lines.merge(
        products[["product_id", "category", "unit_cost"]], on="product_id", how="left"
    )
    lines["line_amount"] = lines["quantity"] * lines["unit_price"]
    lines["line_amount_after_discount"] = lines["line_amount"] - lines["line_discount"]
    lines["line_cost"] = lines["quantity"] * lines["unit_cost"]
    totals = lines.groupby("order_id").agg(
        lines_amount=("line_amount", "sum"),
        line_discount=("line_discount", "sum"),
        cost_of_goods=("line_cost", "sum"),
    )
    orders = orders.join(totals, on="order_id")
    orders["gross_revenue"] = (
        orders["lines_amount"].fillna(0)
        - orders["line_discount"].fillna(0)
        - orders["discount_amount"]
    ).clip(lower=0)
    orders["is_completed"] = orders["status"] == "completed"
    orders["net_revenue"] = orders["gross_revenue"].where(orders["is_completed"], 0.0)
    orders["order_date"] = orders["ordered_at"].dt.normalize()
    orders = orders.rename(columns={"account_id": "customer_id"})
    as_of = orders["order_date"].max()
    orders = orders[orders["order_date"] <= as_of]
    completed = orders[orders["is_completed"]]
    lap("orders")

    # --- RFM (dim_customer_rfm) -----------------------------------------
    days = (
        completed.groupby(["customer_id", "order_date"])
        .agg(count_orders=("order_id", "size"), revenue=("net_revenue", "sum"))
        .reset_index()
    )
    days["period_number"] = days.groupby("customer_id").cumcount() + 1
    rfm = days.groupby("customer_id").agg(
        periods=("order_date", "size"),
        first_purchase=("order_date", "min"),
        last_purchase=("order_date", "max"),
        count_orders=("count_orders", "sum"),
        sum_net_revenue=("revenue", "sum"),
    )
    repeat = days[days["period_number"] > 1].groupby("customer_id")["revenue"].mean()
    rfm["frequency"] = rfm["periods"] - 1
    rfm["recency"] = (rfm["last_purchase"] - rfm["first_purchase"]).dt.days
    rfm["t"] = (as_of - rfm["first_purchase"]).dt.days
    rfm["monetary_value"] = repeat.reindex(rfm.index).fillna(0.0)
    rfm["days_since_last_purchase"] = (as_of - rfm["last_purchase"]).dt.days
    rfm["r_score"] = quintile(rfm["days_since_last_purchase"], ascending=False)
    rfm["f_score"] = quintile(rfm["frequency"])
    rfm["m_score"] = quintile(rfm["sum_net_revenue"])
    rfm = (
        rfm.reset_index()
        .merge(segment_map, on=["r_score", "f_score"], how="left")
        .set_index("customer_id")
    )
    rfm["rfm_cell"] = (
        rfm["r_score"].astype(str)
        + rfm["f_score"].astype(str)
        + rfm["m_score"].astype(str)
    )
    lap("rfm")

    # --- value (dim_customer_value) --------------------------------------
    status = orders["status"]
    value = (
        orders.assign(
            completed_orders=orders["is_completed"].astype(int),
            returned_revenue=orders["gross_revenue"].where(status == "returned", 0),
            cancelled_revenue=orders["gross_revenue"].where(status == "cancelled", 0),
            completed_cost=orders["cost_of_goods"].where(orders["is_completed"]),
            margin=(orders["net_revenue"] - orders["cost_of_goods"]).where(
                orders["is_completed"]
            ),
        )
        .groupby("customer_id")
        .agg(
            count_completed_orders=("completed_orders", "sum"),
            lifetime_gross_revenue=("gross_revenue", "sum"),
            lifetime_net_revenue=("net_revenue", "sum"),
            lifetime_returned_revenue=("returned_revenue", "sum"),
            lifetime_cancelled_revenue=("cancelled_revenue", "sum"),
            lifetime_cost_of_goods=("completed_cost", "sum"),
            lifetime_gross_margin=("margin", "sum"),
        )
    )
    value = value.reindex(accounts["account_id"]).rename_axis("customer_id")
    value = value.fillna({c: 0 for c in value.columns if "cost" not in c})
    value["is_buyer"] = value["count_completed_orders"] > 0
    buyers = value["is_buyer"]
    value["pct_buyers_at_or_above"] = (
        value.loc[buyers, "lifetime_net_revenue"].rank(method="max", ascending=False)
        / buyers.sum()
    )
    pct = value["pct_buyers_at_or_above"]
    value["value_tier"] = np.select(
        [~buyers, pct <= 0.01, pct <= 0.05, pct <= 0.20],
        ["no purchase", "top 1%", "top 5%", "top 20%"],
        "other buyers",
    )
    value["avg_order_value"] = (
        value["lifetime_net_revenue"] / value["count_completed_orders"]
    ).where(buyers)
    value["pct_gross_margin"] = (
        value["lifetime_gross_margin"] / value["lifetime_net_revenue"]
    ).where(value["lifetime_net_revenue"] > 0)
    value["pct_of_total_net_revenue"] = (
        value["lifetime_net_revenue"] / value["lifetime_net_revenue"].sum()
    )
    lap("value")

    # --- loyalty (dim_customer_loyalty) ----------------------------------
    gaps = days[["customer_id", "order_date"]].copy()
    gaps["days_since_previous"] = (
        gaps.groupby("customer_id")["order_date"].diff().dt.days
    )
    by_customer = gaps.groupby("customer_id")["days_since_previous"]
    cadence = pd.DataFrame(
        {
            "avg_gap": by_customer.mean(),
            "median_gap": by_customer.median(),
            "std_gap": by_customer.std(ddof=0),
        }
    )
    spend = (
        lines.merge(completed[["order_id", "customer_id"]], on="order_id")
        .assign(category=lambda d: d["category"].fillna("unknown"))
        .groupby(["customer_id", "category"])["line_amount_after_discount"]
        .sum()
    )
    share = spend / spend.groupby(level="customer_id").transform("sum")
    wallet = pd.DataFrame(
        {
            "count_categories_bought": spend.groupby(level="customer_id").size(),
            "pct_spend_top_category": share.groupby(level="customer_id").max(),
        }
    )
    loyalty = rfm[["count_orders", "periods", "days_since_last_purchase"]].join(
        [cadence, wallet]
    )
    loyalty["tenure_days"] = (as_of - rfm["first_purchase"]).dt.days
    loyalty["tenure_months"] = loyalty["tenure_days"] / 30.4375
    loyalty["cadence_regularity"] = (
        (1 / (1 + loyalty["std_gap"] / loyalty["avg_gap"].replace(0, np.nan)))
        .where(loyalty["periods"] >= 3)
        .fillna(0)
    )
    loyalty["purchases_per_month"] = loyalty["count_orders"] / loyalty[
        "tenure_months"
    ].clip(lower=1)
    loyalty["loyalty_score"] = 100 * (
        0.35 * percent_rank(loyalty["purchases_per_month"])
        + 0.25 * percent_rank(loyalty["days_since_last_purchase"], ascending=False)
        + 0.20 * percent_rank(loyalty["tenure_days"])
        + 0.20 * loyalty["cadence_regularity"]
    )
    loyalty["loyalty_tier"] = pd.cut(
        loyalty["loyalty_score"],
        [-np.inf, 25, 50, 75, np.inf],
        right=False,
        labels=["bronze", "silver", "gold", "platinum"],
    )
    loyalty["pct_repeat_orders"] = (loyalty["count_orders"] - 1) / loyalty[
        "count_orders"
    ]
    loyalty["is_repeat_buyer"] = loyalty["periods"] > 1
    lap("loyalty")

    # --- write (dbt materialises its marts as tables; so do we) ----------
    args.out.mkdir(parents=True, exist_ok=True)
    rfm.to_parquet(args.out / "rfm.parquet")
    value.to_parquet(args.out / "value.parquet")
    loyalty.to_parquet(args.out / "loyalty.parquet")
    lap("write")

    print(
        json.dumps(
            {
                "phases": phases,
                "seconds": round(time.perf_counter() - started, 3),
                "rows_in": rows_in,
                "as_of_date": str(as_of.date()),
                "customers_rfm": len(rfm),
                "customers_value": len(value),
                "customers_loyalty": len(loyalty),
                "sum_net_revenue": round(float(rfm["sum_net_revenue"].sum()), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
