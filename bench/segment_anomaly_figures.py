"""Segmentation and anomaly figures of a built warehouse, before and after
issue 17's changes, for docs/ml_models.md.

    .venv/bin/python bench/segment_anomaly_figures.py \
        --warehouse warehouse/build.duckdb --truth data/demo/truth

Segmentation: the candidates are refitted here with the package's own
functions on the warehouse's current feature snapshot (the same call the
dbt model makes), so a warehouse built before the change can be measured
too. With ``--truth`` (generated data) each candidate's adjusted Rand index
against the planted personas is printed, over all buyers and over the
buyers with 5+ purchase days, and the supervised ceiling: the ARI of a
gradient-boosted classifier trained on the personas themselves (5-fold
cross-validated predictions) from every numeric feature. Anomalies: how
much of the top of each marketing ranking the flagged customers take with
and without the default exclusion, computed from the marts.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import cross_val_predict

from crm_analytics.ml.segments import assign_segments, fit_segments


def personas(connection: duckdb.DuckDBPyConnection, truth: Path) -> pd.Series:
    """The planted persona of each resolved customer (its majority person)."""
    resolved = connection.sql(
        "select customer_id, source_system, source_customer_id as source_id "
        "from intermediate.int_customer_identity_map"
    ).df()
    records = pd.read_csv(truth / "source_records.csv", dtype=str)
    persons = pd.read_csv(truth / "persons.csv", dtype=str)
    joined = resolved.merge(records, on=["source_system", "source_id"]).merge(
        persons, on="person_id"
    )
    majority = joined.groupby("customer_id")["person_id"].agg(
        lambda s: s.mode().iloc[0]
    )
    return (
        persons.set_index("person_id")
        .loc[majority.to_numpy(), "persona"]
        .set_axis(majority.index)
    )


def segmentation(connection, truth: Path | None, seed: int) -> None:
    features = connection.sql(
        "select * from intermediate.int_customer_feature_snapshots "
        "where snapshot_name = 'current' order by customer_id"
    ).df()
    established = (features["count_purchase_days"] >= 5).to_numpy()
    print(
        f"buyers {len(features):,}; one purchase day "
        f"{(features['count_purchase_days'] == 1).mean():.1%}; "
        f"fewer than 5 purchase days {(~established).mean():.1%}"
    )
    persona = None
    if truth is not None:
        persona = personas(connection, truth).reindex(features["customer_id"])
        persona = persona.to_numpy()
    print("candidate | coverage | k | ARI all buyers | ARI 5+ purchase days")
    for min_days in (5, 3, 2, 1):
        model = fit_segments(features, seed=seed, min_purchase_days=min_days)
        labels = assign_segments(features, model)["segment_id"].to_numpy()
        k = model.loc[model["feature_name"] == "k", "value"]
        rows = [(f"nearest centroid, fitted on {min_days}+ days", 1.0, labels)]
        if min_days == 5:
            apart = np.where(established, labels, "early_stage")
            rows.insert(0, ("early_stage apart (former)", established.mean(), apart))
        for name, coverage, assigned in rows:
            scores = "-", "-"
            if persona is not None:
                on_established = adjusted_rand_score(
                    persona[established], assigned[established]
                )
                scores = (
                    f"{adjusted_rand_score(persona, assigned):.3f}",
                    f"{on_established:.3f}",
                )
            print(
                f"{name} | {coverage:.1%} | {k.iloc[0]:.0f} | {scores[0]} | {scores[1]}"
            )
    if persona is not None:
        supervised_ceiling(features, persona, seed)


def supervised_ceiling(features: pd.DataFrame, persona: np.ndarray, seed: int) -> None:
    """How well the personas can be told apart from the features at all:
    out-of-fold predictions of a classifier that is given the personas."""
    numeric = features.select_dtypes(include=["number"]).astype(float)
    numeric = numeric.loc[:, numeric.nunique() > 1]
    predicted = cross_val_predict(
        HistGradientBoostingClassifier(random_state=seed),
        numeric.to_numpy(),
        persona,
        cv=5,
        n_jobs=1,
    )
    days = features["count_purchase_days"].to_numpy()
    groups = {"all buyers": days >= 1, "1 purchase day": days == 1}
    groups["2-4 purchase days"] = (days >= 2) & (days <= 4)
    groups["5+ purchase days"] = days >= 5
    print(
        f"supervised ceiling ({numeric.shape[1]} features, "
        "5-fold gradient boosting on the personas):"
    )
    for name, rows in groups.items():
        print(
            f"  {name}: {rows.sum():,} buyers, ARI "
            f"{adjusted_rand_score(persona[rows], predicted[rows]):.3f}, accuracy "
            f"{(persona[rows] == predicted[rows]).mean():.3f}"
        )


def anomalies(connection) -> None:
    query = lambda sql: connection.sql(sql).df()  # noqa: E731
    flagged = set(
        query("select customer_id from marts.fct_customer_anomalies where is_anomaly")[
            "customer_id"
        ]
    )
    buyers = query(
        "select customer_id, segment_name, lifetime_net_revenue "
        "from marts.dim_customers where is_buyer"
    )
    buyers["flagged"] = buyers["customer_id"].isin(flagged)
    revenue = buyers["lifetime_net_revenue"].astype(float)
    print(
        f"flagged {len(flagged)} of {len(buyers):,} buyers; their share of net "
        f"revenue {revenue[buyers['flagged']].sum() / revenue.sum():.1%}"
    )
    calls = query(
        "select s.customer_id from marts.fct_customer_churn_scores as s "
        "inner join marts.dim_customers as c using (customer_id) "
        "order by s.p_churn * coalesce(c.predicted_clv, 0) desc, s.customer_id "
        "limit 10"
    )
    clv = query(
        "select customer_id from marts.fct_customer_clv_predictions "
        "order by predicted_clv desc, customer_id limit 10"
    )
    in_calls = calls["customer_id"].isin(flagged)
    in_clv = clv["customer_id"].isin(flagged)
    leading = int(in_clv.cumprod().sum())
    print(
        f"with anomalies: who to call top 10 holds {in_calls.sum()} flagged; "
        f"CLV top 10 holds {in_clv.sum()} (the first {leading} in a row)"
    )
    actions = query(
        "select customer_id, action from marts.fct_customer_next_best_action"
    )
    flagged_actions = actions.loc[actions["customer_id"].isin(flagged), "action"]
    print(
        f"next-best action of the flagged: {flagged_actions.value_counts().to_dict()}"
    )
    by_segment = buyers.assign(revenue=revenue).groupby("segment_name")
    table = pd.DataFrame(
        {
            "flagged": by_segment["flagged"].sum(),
            "share_with": by_segment["revenue"].sum() / revenue.sum(),
            "share_without": buyers.loc[~buyers["flagged"]]
            .assign(revenue=revenue)
            .groupby("segment_name")["revenue"]
            .sum()
            / revenue[~buyers["flagged"]].sum(),
            "flagged_share_of_segment": buyers.loc[buyers["flagged"]]
            .assign(revenue=revenue)
            .groupby("segment_name")["revenue"]
            .sum()
            / by_segment["revenue"].sum(),
        }
    ).fillna(0)
    print(table.sort_values("share_with", ascending=False).round(3).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--truth", type=Path, help="data/demo/truth of generated data")
    parser.add_argument("--seed", type=int, default=42)
    arguments = parser.parse_args()
    with duckdb.connect(str(arguments.warehouse), read_only=True) as connection:
        segmentation(connection, arguments.truth, arguments.seed)
        anomalies(connection)


if __name__ == "__main__":
    main()
