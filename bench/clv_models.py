"""The CLV purchase-model candidates side by side (docs/ml_models.md).

Fits BG/NBD, MBG/NBD and Pareto/NBD with crm_analytics.ml.clv exactly as
int_clv_parameters does, on a built warehouse's dim_customer_rfm and
int_clv_holdout, or on the CDNOW sample (weeks; calibration through
1997-09-30, holdout 273 days to 1998-06-30), and prints a Markdown table:
parameters, log-likelihood, holdout mean absolute error per customer,
aggregate holdout error, mean P(alive), degenerate or not, published.

    .venv/bin/python bench/clv_models.py --warehouse warehouse/build.duckdb
    .venv/bin/python bench/clv_models.py --cdnow
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from crm_analytics.ml.clv import PARAMETER_NAMES, fit_clv_parameters  # noqa: E402

CDNOW = ROOT / "tests" / "python" / "data" / "cdnow"


def cdnow_inputs() -> tuple[pd.DataFrame, pd.DataFrame]:
    summary = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    spend = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    rows = [
        line.split()
        for line in (CDNOW / "CDNOW_sample.txt").read_text().splitlines()
        if line.strip()
    ]
    transactions = pd.DataFrame(
        {"ID": [int(r[1]) for r in rows], "date": pd.to_datetime([r[2] for r in rows])}
    )
    later = transactions[transactions["date"] > "1997-09-30"].drop_duplicates()
    actual = summary["ID"].map(later.groupby("ID").size()).fillna(0)
    rfm = summary.rename(columns={"T": "t"}).assign(
        customer_id=summary["ID"].astype(str),
        rfm_time_unit="week",
        monetary_value=spend["zbar"].to_numpy(),
    )
    holdout = rfm.assign(holdout_days=273, count_holdout_periods=actual)
    return rfm, holdout


def warehouse_inputs(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as connection:
        rfm = connection.sql("select * from marts.dim_customer_rfm").df()
        holdout = connection.sql("select * from intermediate.int_clv_holdout").df()
    return rfm, holdout


def table(parameters: pd.DataFrame) -> str:
    purchases = parameters[parameters["model_name"] == "clv_purchases"]
    lines = [
        "| candidate | parameters | log-likelihood | holdout MAE per customer "
        "| holdout predicted / actual | mean P(alive) | P(alive) degenerate "
        "| published |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for candidate, rows in purchases.groupby("candidate", sort=False):
        value = dict(zip(rows["metric_name"], rows["value"], strict=True))
        if value.get("fitted") != 1:
            lines.append(f"| {candidate} | not fitted | | | | | | |")
            continue
        params = ", ".join(
            f"{name} {value[name]:.4g}" for name in PARAMETER_NAMES[candidate]
        )
        holdout = (
            f"{value['holdout_mean_absolute_error']:.4f}"
            if "holdout_mean_absolute_error" in value
            else "-"
        )
        ratio = (
            f"{value['holdout_predicted_purchases']:,.0f} / "
            f"{value['holdout_actual_purchases']:,.0f} "
            f"({value['holdout_aggregate_error_pct']:+.1%})"
            if "holdout_predicted_purchases" in value
            else "-"
        )
        lines.append(
            f"| {candidate} | {params} | {value['log_likelihood']:,.1f} | {holdout} "
            f"| {ratio} | {value['p_alive_mean']:.3f} "
            f"(std {value['p_alive_std']:.3f}) "
            f"| {'yes' if value['p_alive_degenerate'] else 'no'} "
            f"| {'**yes**' if rows['is_published'].all() else ''} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--warehouse", type=Path)
    source.add_argument("--cdnow", action="store_true")
    args = parser.parse_args()
    rfm, holdout = cdnow_inputs() if args.cdnow else warehouse_inputs(args.warehouse)
    started = time.perf_counter()
    parameters = fit_clv_parameters(rfm, holdout)
    seconds = time.perf_counter() - started
    print(
        f"{len(rfm):,} buyers, {(rfm['frequency'] > 0).sum():,} repeat buyers, "
        f"holdout {holdout['holdout_days'].iloc[0]} days on {len(holdout):,} "
        f"customers; six fits in {seconds:.1f} s\n"
    )
    print(table(parameters))
    notes = parameters.dropna(subset=["note"])
    for row in notes.itertuples():
        print(f"\n- {row.candidate} {row.metric_name}: {row.note}")


if __name__ == "__main__":
    main()
