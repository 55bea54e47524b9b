"""The propensity models' candidates side by side, from a built warehouse.

    python bench/propensity_candidates.py --database warehouse/build.duckdb

Reads ``marts.fct_ml_model_metrics`` (read-only) and prints, per model
(churn, purchase_propensity), one markdown row per candidate: out-of-time
ROC AUC, PR AUC, log loss (the primary metric: the lowest is published),
Brier score, ECE, mean predicted against the actual rate of the test
window, and the training window's rate. The published candidate is in
bold. These are the tables of docs/ml_models.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

COLUMNS = (
    ("roc_auc", "ROC AUC"),
    ("pr_auc", "PR AUC"),
    ("log_loss", "log loss"),
    ("brier_score", "Brier"),
    ("ece", "ECE"),
)


def tables(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as connection:
        frame = connection.sql(
            "select model_name, candidate, metric_name, metric_value, "
            "is_published, note from marts.fct_ml_model_metrics "
            "where model_name in ('churn', 'purchase_propensity') "
            "and candidate <> 'category_affinity'"
        ).df()
    out = []
    for model_name, rows in frame.groupby("model_name", sort=True):
        fitted = rows.loc[(rows["metric_name"] == "fitted") & rows["is_published"]]
        if fitted["metric_value"].iloc[0] != 1:
            out.append(f"{model_name}: not fitted ({fitted['note'].iloc[0]})\n")
            continue
        wide = rows.pivot_table(
            index="candidate", columns="metric_name", values="metric_value"
        ).sort_values("log_loss")
        winner = fitted["candidate"].iloc[0]
        header = [name for _, name in COLUMNS]
        out.append(f"{model_name}: {fitted['note'].iloc[0]}\n")
        out.append(
            "| candidate | "
            + " | ".join(header)
            + " | mean predicted vs actual | training rate |"
        )
        out.append("|---" + "|---:" * (len(header) + 2) + "|")
        for candidate, figures in wide.iterrows():
            name = f"**{candidate}**" if candidate == winner else candidate
            cells = [f"{figures[key]:.4f}" for key, _ in COLUMNS]
            cells.append(
                f"{figures['mean_predicted']:.3f} vs {figures['test_label_rate']:.3f}"
            )
            cells.append(f"{figures['training_label_rate']:.3f}")
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True)
    print(tables(parser.parse_args().database))


if __name__ == "__main__":
    main()
