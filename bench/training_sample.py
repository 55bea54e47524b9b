"""How many rows do the propensity models need? Out-of-time metrics and fit
time of the churn and purchase models fitted on samples of several sizes.

    python bench/training_sample.py --database bench/.work/daily-1000000/build.duckdb \\
        [--rows 25000,50000,100000,200000,0]

Reads ``int_customer_feature_snapshots`` of a built warehouse (read-only),
fits each model on the training snapshot the warehouse's evaluation uses
(churn_train, purchase_train) capped at each row count (0 = every row) and
judges it on the test snapshot, as ``int_churn_evaluation`` and
``int_purchase_propensity_evaluation`` do (one candidate, ``--candidate``,
default gradient_boosting). One thread, as in the build.
The evidence behind ``crm_analytics.ml.propensity.MAX_TRAINING_ROWS``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import duckdb
from threadpoolctl import threadpool_limits

from crm_analytics.ml import propensity

MODELS = {
    "churn": ("churn_train", "churn_test", propensity.churn_label, "is_active"),
    "purchase": ("purchase_train", "purchase_test", propensity.purchase_label, "true"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--rows", default="25000,50000,100000,200000,0")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--candidate", default="gradient_boosting")
    args = parser.parse_args()
    sizes = [int(x) for x in args.rows.split(",")]
    con = duckdb.connect(str(args.database), read_only=True)
    snapshots = con.table("intermediate.int_customer_feature_snapshots")
    results = []
    for name, (train_name, test_name, label, where) in MODELS.items():
        train = snapshots.filter(f"snapshot_name = '{train_name}' and {where}").df()
        test = snapshots.filter(f"snapshot_name = '{test_name}' and {where}").df()
        for rows in sizes:
            cap = rows or len(train)
            started = time.perf_counter()
            with threadpool_limits(1):
                original = propensity.MAX_TRAINING_ROWS
                propensity.MAX_TRAINING_ROWS = cap
                try:
                    evaluation = propensity.evaluate_candidates(
                        train, test, label, args.seed, candidates=(args.candidate,)
                    )
                    metrics = dict(
                        zip(
                            evaluation["metric_name"],
                            evaluation["metric_value"],
                            strict=True,
                        )
                    )
                finally:
                    propensity.MAX_TRAINING_ROWS = original
            seconds = time.perf_counter() - started
            row = {
                "model": name,
                "training_rows": int(metrics["training_rows"]),
                "snapshot_rows": int(metrics["training_snapshot_rows"]),
                "seconds": round(seconds, 1),
                **{
                    k: round(metrics[k], 4)
                    for k in (
                        "roc_auc",
                        "pr_auc",
                        "log_loss",
                        "brier_score",
                        "top_decile_lift",
                    )
                },
            }
            results.append(row)
            print(json.dumps(row), flush=True)
    print("| model | training rows | fit + evaluation | ROC AUC | PR AUC | Brier |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['model']} | {r['training_rows']:,} of {r['snapshot_rows']:,} "
            f"| {r['seconds']} s | {r['roc_auc']} | {r['pr_auc']} "
            f"| {r['brier_score']} |"
        )


if __name__ == "__main__":
    main()
