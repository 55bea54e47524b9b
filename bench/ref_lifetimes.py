"""lifetimes on the warehouse's transactions (run in bench/.venv-ref).

Times lifetimes' summary_data_from_transaction_data and BetaGeoFitter.fit on
the completed orders that dim_customer_rfm summarises, and writes the fitted
parameters and the summary's totals as JSON (and, with --summary-out, the
per-customer summary as Parquet).

    python bench/ref_lifetimes.py --transactions T.parquet --as-of YYYY-MM-DD \
        --out result.json [--summary-out summary.parquet]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import pandas as pd
from lifetimes import BetaGeoFitter
from lifetimes.utils import summary_data_from_transaction_data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--summary-out", type=Path)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    started = time.perf_counter()
    transactions = pd.read_parquet(args.transactions)
    transactions["order_date"] = pd.to_datetime(transactions["order_date"])
    transactions["net_revenue"] = transactions["net_revenue"].astype(float)
    read = time.perf_counter()
    summary = summary_data_from_transaction_data(
        transactions,
        "customer_id",
        "order_date",
        monetary_value_col="net_revenue",
        observation_period_end=args.as_of,
        freq="D",
    )
    summarised = time.perf_counter()
    fitter = BetaGeoFitter(penalizer_coef=0.0)
    fitter.fit(summary["frequency"], summary["recency"], summary["T"])
    fitted = time.perf_counter()
    if args.summary_out:
        summary.rename_axis("customer_id").reset_index().to_parquet(args.summary_out)

    args.out.write_text(
        json.dumps(
            {
                "read_seconds": round(read - started, 3),
                "summary_seconds": round(summarised - read, 3),
                "fit_seconds": round(fitted - summarised, 3),
                "params": {k: float(v) for k, v in fitter.params_.items()},
                "transactions": len(transactions),
                "customers": len(summary),
                "sum_frequency": float(summary["frequency"].sum()),
                "sum_recency": float(summary["recency"].sum()),
                "sum_t": float(summary["T"].sum()),
                "sum_monetary_value": float(summary["monetary_value"].sum()),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
