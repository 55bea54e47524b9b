"""Churn and purchase propensity: binary classifiers on customer snapshots.

The rows come from ``int_customer_feature_snapshots``: behaviour features of
each customer at a cutoff date and ``count_horizon_purchase_days``, what
they did in the horizon after it. A model learns on one snapshot and is
judged on a later one whose horizon it never saw (an out-of-time split);
for scoring, it is refitted on the latest labelled snapshot and applied to
the ``current`` one.

The model is scikit-learn's histogram gradient boosting, calibrated with
isotonic regression on cross-validation folds so that its probabilities can
be read as probabilities; a standardised logistic regression is the
baseline it must beat. A customer's reasons are the features that raise
their probability most: each feature in turn is set to the training median
and the drop in the boosted model's probability is that feature's
contribution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from crm_analytics.ml import is_in

FEATURES: tuple[str, ...] = (
    "days_since_last_purchase",
    "days_since_first_purchase",
    "count_purchase_days",
    "purchase_days_per_year",
    "count_orders_30d",
    "count_orders_90d",
    "count_orders_365d",
    "lifetime_net_revenue",
    "net_revenue_365d",
    "avg_order_value",
    "avg_lines_per_order",
    "avg_units_per_line",
    "avg_price_index",
    "pct_orders_discounted",
    "pct_orders_returned",
    "count_tickets_365d",
    "count_unresolved_tickets",
    "avg_csat_score",
    "avg_nps_score",
    "count_engagement_days_90d",
)
"""Model inputs; nulls (no ticket, no survey) are kept as missing."""

MIN_TRAINING_ROWS = 50
MAX_TRAINING_ROWS = 200_000
"""A larger snapshot is fitted on a random sample of this many rows: the
four boosted fits (one, and three for the calibration folds) grow linearly
with the rows, and the accuracy hardly does. At 1M generated customers the
churn model's out-of-time ROC AUC was 0.7820 on 50k rows, 0.7826 on 200k
and 0.7832 on all 468,154, in 16 s, 33 s and 54 s
(``bench/training_sample.py``; docs/performance.md)."""
REASON_COUNT = 3


@dataclass(frozen=True)
class PropensityModel:
    """A fitted calibrated classifier, its baseline and what it learned on."""

    boosted: HistGradientBoostingClassifier
    calibrated: CalibratedClassifierCV
    baseline: object
    medians: pd.Series
    base_rate: float
    n_rows: int
    features: tuple[str, ...]
    n_available: int


def churn_label(snapshot: pd.DataFrame) -> np.ndarray:
    """1 when the customer made no purchase in the horizon after the cutoff."""
    return (snapshot["count_horizon_purchase_days"] == 0).to_numpy(int)


def purchase_label(snapshot: pd.DataFrame) -> np.ndarray:
    """1 when the customer made a purchase in the horizon after the cutoff."""
    return (snapshot["count_horizon_purchase_days"] > 0).to_numpy(int)


def _matrix(
    snapshot: pd.DataFrame, features: tuple[str, ...] = FEATURES
) -> pd.DataFrame:
    missing = [c for c in FEATURES if c not in snapshot.columns]
    if missing:
        raise ValueError(f"snapshot lacks feature columns: {', '.join(missing)}")
    return snapshot[list(features)].astype(float)


def fit_propensity(
    snapshot: pd.DataFrame,
    label: Callable[[pd.DataFrame], np.ndarray],
    seed: int,
    max_rows: int | None = None,
) -> PropensityModel | None:
    """Fit the boosted model, its calibration and the logistic baseline.

    Returns None when the snapshot is too small (fewer than 50 rows) or
    holds one class only: there is nothing to learn. Rows are sorted by
    customer_id first, so the cross-validation folds, and with them the
    model, do not depend on the order the warehouse returned them in. A
    snapshot of more than ``max_rows`` rows (default
    :data:`MAX_TRAINING_ROWS`) is fitted on a random sample of ``max_rows``
    of them, drawn with ``seed`` after the sort.
    """
    max_rows = MAX_TRAINING_ROWS if max_rows is None else max_rows
    if "customer_id" in snapshot.columns:
        snapshot = snapshot.sort_values("customer_id", kind="stable")
    n_available = len(snapshot)
    if n_available > max_rows:
        keep = np.random.default_rng(seed).choice(n_available, max_rows, replace=False)
        snapshot = snapshot.iloc[np.sort(keep)]
    x = _matrix(snapshot)
    y = label(snapshot)
    if len(y) < MIN_TRAINING_ROWS or y.min() == y.max():
        return None
    # a feature no customer has (no tickets or surveys in the input, say)
    # carries nothing and cannot be binned
    features = tuple(f for f in FEATURES if x[f].notna().any())
    x = x[list(features)]
    boosted = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        random_state=seed,
    ).fit(x, y)
    calibrated = CalibratedClassifierCV(
        HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.05,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            random_state=seed,
        ),
        method="isotonic" if len(y) >= 1000 else "sigmoid",
        cv=3,
    ).fit(x, y)
    medians = x.median().fillna(0.0)
    baseline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(
        x.fillna(medians), y
    )
    return PropensityModel(
        boosted,
        calibrated,
        baseline,
        medians,
        float(y.mean()),
        len(y),
        features,
        n_available,
    )


def predict(model: PropensityModel, snapshot: pd.DataFrame) -> np.ndarray:
    """Calibrated probability of the label for each row."""
    return model.calibrated.predict_proba(_matrix(snapshot, model.features))[:, 1]


def top_decile_lift(y: np.ndarray, p: np.ndarray) -> float:
    """Label rate among the 10% highest scores over the overall rate."""
    top = np.argsort(-p, kind="stable")[: max(1, int(np.ceil(len(p) / 10)))]
    return float(y[top].mean() / y.mean()) if y.mean() > 0 else float("nan")


def evaluate_propensity(
    train: pd.DataFrame,
    test: pd.DataFrame,
    label: Callable[[pd.DataFrame], np.ndarray],
    seed: int,
) -> list[tuple[str, float]]:
    """Fit on ``train``, judge on ``test``: ROC AUC, PR AUC, Brier score and
    top-decile lift of the calibrated model and of the logistic baseline,
    with row counts and label rates. Empty when no model could be fitted or
    the test snapshot holds one class only."""
    model = fit_propensity(train, label, seed)
    if "customer_id" in test.columns:
        # ties in calibrated scores are ranked by customer, not arrival
        test = test.sort_values("customer_id", kind="stable")
    y = label(test)
    if model is None or len(y) == 0 or y.min() == y.max():
        return []
    p = predict(model, test)
    x_test = _matrix(test, model.features).fillna(model.medians)
    p_base = model.baseline.predict_proba(x_test)[:, 1]
    return [
        ("training_rows", float(model.n_rows)),
        ("training_snapshot_rows", float(model.n_available)),
        ("training_label_rate", model.base_rate),
        ("test_rows", float(len(y))),
        ("test_label_rate", float(y.mean())),
        ("roc_auc", float(roc_auc_score(y, p))),
        ("pr_auc", float(average_precision_score(y, p))),
        ("brier_score", float(brier_score_loss(y, p))),
        ("top_decile_lift", top_decile_lift(y, p)),
        ("mean_predicted", float(p.mean())),
        ("baseline_roc_auc", float(roc_auc_score(y, p_base))),
        ("baseline_pr_auc", float(average_precision_score(y, p_base))),
        ("baseline_brier_score", float(brier_score_loss(y, p_base))),
    ]


def explain(
    model: PropensityModel, snapshot: pd.DataFrame, top: int = REASON_COUNT
) -> list[str]:
    """Per row, the ``top`` features that raise the probability most, as
    ``feature=value (+delta)``; features that lower it are not reasons."""
    x = _matrix(snapshot, model.features)
    if x.empty:
        return []
    base = model.boosted.predict_proba(x)[:, 1]
    contributions = np.zeros((len(x), len(model.features)))
    for j, feature in enumerate(model.features):
        # a row whose value is already the median would be predicted
        # unchanged (contribution 0), so only the others are re-predicted;
        # a missing value is not equal to the median and counts as changed
        changed = (x[feature] != model.medians[feature]).to_numpy()
        if not changed.any():
            continue
        neutral = x.loc[changed].copy()
        neutral[feature] = model.medians[feature]
        contributions[changed, j] = (
            base[changed] - model.boosted.predict_proba(neutral)[:, 1]
        )
    order = np.argsort(-contributions, axis=1, kind="stable")[:, :top]
    values = x.to_numpy()
    reasons = []
    for i, row in enumerate(order):
        parts = [
            f"{model.features[j]}={_fmt(values[i, j])} (+{contributions[i, j]:.2f})"
            for j in row
            if contributions[i, j] >= 0.005
        ]
        reasons.append("; ".join(parts))
    return reasons


def _fmt(value: float) -> str:
    if np.isnan(value):
        return "missing"
    return f"{value:.0f}" if abs(value) >= 10 else f"{value:.2f}"


CHURN_BANDS: tuple[tuple[float, str], ...] = ((0.3, "low"), (0.6, "medium"))
"""Calibrated churn probability below 0.3 is low risk, below 0.6 medium,
otherwise high."""

CHURN_COLUMNS: dict[str, str] = {
    "customer_id": "str",
    "churn_risk_band": "str",
    "churn_reasons": "str",
    "p_churn": "float64",
    "horizon_days": "int64",
}
PURCHASE_COLUMNS: dict[str, str] = {
    "customer_id": "str",
    "most_likely_category": "str",
    "p_purchase": "float64",
    "p_most_likely_category": "float64",
    "horizon_days": "int64",
}


def risk_band(p: np.ndarray) -> np.ndarray:
    """The :data:`CHURN_BANDS` band of each probability."""
    bands = np.full(len(p), "high", dtype=object)
    for upper, name in reversed(CHURN_BANDS):
        bands[np.asarray(p) < upper] = name
    return bands


def _horizon(snapshot: pd.DataFrame) -> int:
    horizons = snapshot["horizon_days"].dropna().unique()
    if len(horizons) != 1:
        raise ValueError("a training snapshot must have exactly one horizon")
    return int(horizons[0])


def score_churn(train: pd.DataFrame, current: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Fit on the labelled ``train`` snapshot and score ``current``: the
    calibrated probability of no purchase in the horizon, its risk band and
    the reasons. Both frames should hold active customers only. Empty when
    no model can be fitted."""
    model = fit_propensity(train, churn_label, seed)
    if model is None or current.empty:
        return pd.DataFrame(columns=list(CHURN_COLUMNS)).astype(CHURN_COLUMNS)
    p = predict(model, current)
    return pd.DataFrame(
        {
            "customer_id": current["customer_id"].to_numpy(),
            "churn_risk_band": risk_band(p),
            "churn_reasons": explain(model, current),
            "p_churn": p,
            "horizon_days": _horizon(train),
        }
    ).astype(CHURN_COLUMNS)


def category_affinity(
    categories: pd.DataFrame, prior_weight: float = 1.0
) -> pd.DataFrame:
    """Each customer's most likely next category and its probability.

    ``categories`` holds customer_id, category and count_lines_before_cutoff.
    The probability is the customer's share of lines in the category,
    smoothed towards the population's shares with ``prior_weight`` pseudo
    lines (a Dirichlet prior), so a customer with one line is not certain.
    Ties go to the alphabetically first category. Lines of products with no
    category are no evidence of one and are left out.
    """
    lines = categories.loc[
        (categories["count_lines_before_cutoff"] > 0) & categories["category"].notna()
    ]
    totals = lines.groupby("category")["count_lines_before_cutoff"].sum()
    prior = totals / totals.sum()
    per_customer = lines.groupby("customer_id")["count_lines_before_cutoff"].transform(
        "sum"
    )
    probability = (
        lines["count_lines_before_cutoff"] + prior_weight * lines["category"].map(prior)
    ) / (per_customer + prior_weight)
    ranked = (
        lines.assign(p=probability.to_numpy())
        .sort_values(["customer_id", "p", "category"], ascending=[True, False, True])
        .drop_duplicates("customer_id")
    )
    return ranked[["customer_id", "category", "p"]].rename(
        columns={"category": "most_likely_category", "p": "p_most_likely_category"}
    )


def evaluate_category(categories_test: pd.DataFrame) -> list[tuple[str, float]]:
    """Hit rate of the most likely category among customers who bought in
    the horizon (the predicted category is among those they bought), beside
    the population's most bought category as a baseline. Empty when no
    product has a category (the column is optional) or nobody bought in the
    horizon: there is nothing to judge."""
    categories_test = categories_test.loc[categories_test["category"].notna()]
    bought = categories_test.loc[categories_test["count_lines_in_horizon"] > 0]
    buyers = bought["customer_id"].unique()
    if len(buyers) == 0 or not (categories_test["count_lines_before_cutoff"] > 0).any():
        return []
    predicted = category_affinity(categories_test)
    predicted = predicted.loc[is_in(predicted["customer_id"], bought["customer_id"])]
    hits = predicted.merge(
        bought,
        left_on=["customer_id", "most_likely_category"],
        right_on=["customer_id", "category"],
    )
    totals = categories_test.groupby("category")["count_lines_before_cutoff"].sum()
    top = totals.sort_values(ascending=False, kind="stable").index[0]
    baseline_hits = bought.loc[bought["category"] == top, "customer_id"].nunique()
    return [
        ("category_evaluation_customers", float(len(predicted))),
        ("category_hit_rate", len(hits) / max(len(predicted), 1)),
        ("category_baseline_hit_rate", baseline_hits / len(buyers)),
    ]


def score_purchase(
    train: pd.DataFrame,
    current: pd.DataFrame,
    current_categories: pd.DataFrame,
    seed: int,
) -> pd.DataFrame:
    """Fit on the labelled ``train`` snapshot and score ``current``: the
    calibrated probability of a purchase in the horizon and the most likely
    category. Empty when no model can be fitted."""
    model = fit_propensity(train, purchase_label, seed)
    if model is None or current.empty:
        return pd.DataFrame(columns=list(PURCHASE_COLUMNS)).astype(PURCHASE_COLUMNS)
    scored = pd.DataFrame(
        {
            "customer_id": current["customer_id"].to_numpy(),
            "p_purchase": predict(model, current),
            "horizon_days": _horizon(train),
        }
    ).merge(category_affinity(current_categories), on="customer_id", how="left")
    return scored[list(PURCHASE_COLUMNS)].astype(PURCHASE_COLUMNS)
