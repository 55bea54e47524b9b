"""Churn and purchase propensity: binary classifiers on customer snapshots.

The rows come from ``int_customer_feature_snapshots``: behaviour features of
each customer at a cutoff date and ``count_horizon_purchase_days``, what
they did in the horizon after it. Two labelled snapshots per model, a
training one and a later test one whose horizon ends at as_of_date.

Champion against challengers. Each candidate ranks customers by a score:

- ``gradient_boosting``: scikit-learn's histogram gradient boosting;
- ``logistic``: a standardised logistic regression (missing values at the
  training median);
- ``heuristic_<feature>``: one feature alone, in the direction that the
  training rows say raises the label (for churn: fewer purchase days, longer
  since the last purchase).

A score becomes a probability by calibration on the most recent labelled
window (:data:`CALIBRATION`, a sigmoid). The out-of-time evaluation fits each
candidate's score on the training snapshot and calibrates it on the test
snapshot, cross-fitted over customer folds so that no customer's own label
calibrates their probability; the candidate with the lowest log loss on the
test snapshot (:data:`PRIMARY_METRIC`) is published. For scoring, the
winner is refitted on the latest labelled snapshot (the test one), with the
calibration cross-validated inside it (:func:`fit_scoring_model`), stored
in the warehouse in skops's format (:func:`dump_model`, :func:`load_model`:
only allowed types load, so nothing stored can run code) and applied to
the ``current`` one on every run until the refit schedule fits it again.

A customer's reasons are the features that raise their probability most:
each feature in turn is set to the training median and the drop in the
probability is that feature's contribution.
"""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import sklearn
import skops
import skops.io
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from crm_analytics.ml import is_in
from crm_analytics.ml import warn_in_build as warn_in_build  # shared; re-exported

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

HEURISTIC_FEATURES: tuple[str, ...] = (
    "count_purchase_days",
    "days_since_last_purchase",
)
"""The one-feature challengers: frequency and recency."""

CANDIDATES: tuple[str, ...] = (
    "gradient_boosting",
    "logistic",
    *(f"heuristic_{feature}" for feature in HEURISTIC_FEATURES),
)
"""Every candidate, from the most to the least complex; a tie on the
primary metric goes to the later (simpler) one."""

PRIMARY_METRIC = "log_loss"
"""The published candidate has the lowest out-of-time log loss (mean of
-log p of what happened). The scores are read as probabilities (risk bands,
expected values in the next-best action), so the metric must judge the
probabilities themselves, not only their order as ROC AUC and PR AUC do;
log loss is a strictly proper scoring rule and, unlike the Brier score,
punishes a confident wrong probability hard (docs/ml_models.md)."""

CALIBRATION = "sigmoid"
"""How a score becomes a probability: Platt's sigmoid, a logistic
regression of the label on the score. It can shift the level to a new
window's label rate without changing the order, and it never says 0 or 1.
Isotonic regression (used before) gave a worse out-of-time log loss for
every candidate on the demo and on Online Retail, lowered ROC AUC by its
ties and published p_churn = 0 for some customers (docs/ml_models.md)."""

CALIBRATION_FOLDS = 5
"""Customer folds of the cross-fitted calibration in the evaluation."""

ECE_BINS = 10
"""Equal-width probability bins of the expected calibration error."""

MIN_TRAINING_ROWS = 50
MIN_CLASS_ROWS = 10
"""Fewer rows, or fewer customers of either outcome, and the model is not
fitted: the calibration folds need both outcomes in each."""

MAX_TRAINING_ROWS = 200_000
"""A larger snapshot is fitted on a random sample of this many rows: the
boosted fits grow linearly with the rows, and the accuracy hardly does. At
1M generated customers the churn model's out-of-time ROC AUC was 0.7820 on
50k rows, 0.7826 on 200k and 0.7832 on all 468,154, in 16 s, 33 s and 54 s
(``bench/training_sample.py``; docs/performance.md)."""

REASON_COUNT = 3
REASON_LIMIT = 20_000
"""Reasons are computed for this many customers at most, the riskiest
(who the dashboard's "who to call first" and any campaign start from);
the others' reasons are null. Explaining re-predicts every customer once
per feature: 20 features x 485k customers took half of
fct_customer_churn_scores at 1M customers."""

_BOOSTING = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
}


class OneFeatureScore(ClassifierMixin, BaseEstimator):
    """A one-feature ranking: the feature's value, signed so that a larger
    score means the label is likelier (the sign that gives the training rows
    a ROC AUC of at least 0.5), a missing value at the training median. Its
    scores are not probabilities: they are calibrated like every other
    candidate's."""

    def __init__(self, feature: str = "count_purchase_days"):
        self.feature = feature

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> OneFeatureScore:
        values = x[self.feature].astype(float)
        self.classes_ = np.unique(y)
        median = values.median()
        self.median_ = 0.0 if np.isnan(median) else float(median)
        auc = roc_auc_score(y, values.fillna(self.median_))
        self.sign_ = 1.0 if auc >= 0.5 else -1.0
        return self

    def decision_function(self, x: pd.DataFrame) -> np.ndarray:
        values = x[self.feature].astype(float).fillna(self.median_)
        return self.sign_ * values.to_numpy()

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        median_score = self.sign_ * self.median_
        return self.classes_[(self.decision_function(x) > median_score).astype(int)]


def ranker(candidate: str, seed: int) -> BaseEstimator:
    """The unfitted score model of a candidate."""
    if candidate == "gradient_boosting":
        return HistGradientBoostingClassifier(**_BOOSTING, random_state=seed)
    if candidate == "logistic":
        return make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(max_iter=1000),
        )
    if candidate.startswith("heuristic_"):
        feature = candidate.removeprefix("heuristic_")
        if feature not in FEATURES:
            raise ValueError(f"unknown heuristic feature: {feature}")
        return OneFeatureScore(feature)
    raise ValueError(f"unknown candidate: {candidate}")


@dataclass(frozen=True)
class PropensityModel:
    """A fitted calibrated candidate and what it learned on."""

    candidate: str
    calibrated: CalibratedClassifierCV
    reason_model: object
    medians: pd.Series
    base_rate: float
    n_rows: int
    features: tuple[str, ...]
    n_available: int
    horizon_days: int | None = None


def churn_label(snapshot: pd.DataFrame) -> np.ndarray:
    """1 when the customer made no purchase in the horizon after the cutoff."""
    return (snapshot["count_horizon_purchase_days"] == 0).to_numpy(int)


def purchase_label(snapshot: pd.DataFrame) -> np.ndarray:
    """1 when the customer made a purchase in the horizon after the cutoff."""
    return (snapshot["count_horizon_purchase_days"] > 0).to_numpy(int)


_OUTCOMES = {churn_label: "churned", purchase_label: "bought"}


def _matrix(
    snapshot: pd.DataFrame, features: tuple[str, ...] = FEATURES
) -> pd.DataFrame:
    missing = [c for c in FEATURES if c not in snapshot.columns]
    if missing:
        raise ValueError(f"snapshot lacks feature columns: {', '.join(missing)}")
    return snapshot[list(features)].astype(float)


def _sorted(snapshot: pd.DataFrame) -> pd.DataFrame:
    if "customer_id" in snapshot.columns:
        return snapshot.sort_values("customer_id", kind="stable")
    return snapshot


def not_fitted_reason(
    snapshot: pd.DataFrame,
    label: Callable[[pd.DataFrame], np.ndarray],
    name: str = "training",
) -> str | None:
    """Why no model can learn on (or be judged on) ``snapshot``, in plain
    words, or None when it can: at least :data:`MIN_TRAINING_ROWS` rows and
    :data:`MIN_CLASS_ROWS` customers of each outcome."""
    y = label(snapshot) if len(snapshot) else np.zeros(0, int)
    n, positives = len(y), int(y.sum())
    outcome = _OUTCOMES.get(label, "had the label")
    if n < MIN_TRAINING_ROWS:
        return f"{n} customers in {name}; at least {MIN_TRAINING_ROWS} needed"
    if min(positives, n - positives) < MIN_CLASS_ROWS:
        return (
            f"{positives} of {n} customers in {name} {outcome}; "
            f"at least {MIN_CLASS_ROWS} of each outcome needed"
        )
    return None


def fit_propensity(
    snapshot: pd.DataFrame,
    label: Callable[[pd.DataFrame], np.ndarray],
    seed: int,
    max_rows: int | None = None,
    candidate: str = "gradient_boosting",
) -> PropensityModel | None:
    """Fit a candidate on ``snapshot`` for scoring: its score model
    calibrated on three cross-validation folds of the same (latest
    labelled) snapshot, and the score model fitted on all rows for the
    reasons.

    Returns None when :func:`not_fitted_reason` gives a reason. Rows are
    sorted by customer_id first, so the folds, and with them the model, do
    not depend on the order the warehouse returned them in. A snapshot of
    more than ``max_rows`` rows (default :data:`MAX_TRAINING_ROWS`) is
    fitted on a random sample of ``max_rows`` of them, drawn with ``seed``
    after the sort.
    """
    prepared = _prepare(snapshot, label, seed, max_rows)
    if prepared is None:
        return None
    x, y, n_available = prepared
    calibrated = CalibratedClassifierCV(
        ranker(candidate, seed), method=CALIBRATION, cv=3
    ).fit(x, y)
    reason_model = ranker(candidate, seed).fit(x, y)
    if not hasattr(reason_model, "predict_proba"):
        # a heuristic's score is no probability: explain the calibrated one
        reason_model = calibrated
    return PropensityModel(
        candidate,
        calibrated,
        reason_model,
        x.median().fillna(0.0),
        float(y.mean()),
        len(y),
        tuple(x.columns),
        n_available,
        _horizon(snapshot) if "horizon_days" in snapshot.columns else None,
    )


MODEL_FORMAT = f"skops {skops.__version__}, scikit-learn {sklearn.__version__}"
"""What a stored model was written with. A model stored by other versions
is fitted again, not loaded: scikit-learn's estimators change between
versions."""

TRUSTED_TYPES: tuple[str, ...] = (
    "crm_analytics.ml.propensity.OneFeatureScore",
    "numpy.dtype",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)
"""The types a stored model may hold besides skops's own trusted ones
(builtins, numpy arrays, scikit-learn's public estimators). Loading a
stored model with any other type fails before any object is made."""


def dump_model(model: PropensityModel) -> bytes:
    """A fitted model as bytes in skops's format (a zip of JSON and numpy
    arrays, compressed), for a BLOB column."""
    state = {field.name: getattr(model, field.name) for field in fields(model)}
    state["medians"] = {name: float(value) for name, value in model.medians.items()}
    state["features"] = list(model.features)
    return skops.io.dumps(state, compression=zipfile.ZIP_DEFLATED)


_LOAD_LOCK = threading.Lock()
"""One load at a time in a process. dbt runs the churn and the purchase
models in two threads of one process, and both load stored models. skops
reads each array with numpy, which parses the array's header with
``ast.literal_eval``; CPython 3.11 keeps the AST converter's recursion
count per interpreter, not per thread, so two threads parsing at once can
fail with ``SystemError: AST constructor recursion depth mismatch``
(python/cpython#106905). A demo build in the tests failed so, once."""


def load_model(blob: bytes) -> PropensityModel:
    """The model :func:`dump_model` stored. Only :data:`TRUSTED_TYPES` and
    skops's defaults load; any other type raises skops's
    UntrustedTypesFoundException before anything is made. Loads in one
    process run one at a time (:data:`_LOAD_LOCK`)."""
    with _LOAD_LOCK:
        state = skops.io.loads(bytes(blob), trusted=list(TRUSTED_TYPES))
    state["medians"] = pd.Series(state["medians"], dtype=float)
    state["features"] = tuple(state["features"])
    return PropensityModel(**state)


def _prepare(
    snapshot: pd.DataFrame,
    label: Callable[[pd.DataFrame], np.ndarray],
    seed: int,
    max_rows: int | None,
) -> tuple[pd.DataFrame, np.ndarray, int] | None:
    """The sorted, capped feature matrix and labels of a training snapshot,
    without the features no customer has; None when it cannot be fitted."""
    max_rows = MAX_TRAINING_ROWS if max_rows is None else max_rows
    snapshot = _sorted(snapshot)
    n_available = len(snapshot)
    if n_available > max_rows:
        keep = np.random.default_rng(seed).choice(n_available, max_rows, replace=False)
        snapshot = snapshot.iloc[np.sort(keep)]
    x = _matrix(snapshot)
    if not_fitted_reason(snapshot, label) is not None:
        return None
    # a feature no customer has (no tickets or surveys in the input, say)
    # carries nothing and cannot be binned
    features = tuple(f for f in FEATURES if x[f].notna().any())
    return x[list(features)], label(snapshot), n_available


def predict(model: PropensityModel, snapshot: pd.DataFrame) -> np.ndarray:
    """Calibrated probability of the label for each row."""
    return model.calibrated.predict_proba(_matrix(snapshot, model.features))[:, 1]


def top_decile_lift(y: np.ndarray, p: np.ndarray) -> float:
    """Label rate among the 10% highest scores over the overall rate."""
    top = np.argsort(-p, kind="stable")[: max(1, int(np.ceil(len(p) / 10)))]
    return float(y[top].mean() / y.mean()) if y.mean() > 0 else float("nan")


def expected_calibration_error(
    y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS
) -> float:
    """ECE: the probabilities cut into ``bins`` equal-width bins of [0, 1]
    (the last one closed, so p = 1 falls in it); per bin the absolute gap
    between the mean probability and the label rate, weighted by the bin's
    share of rows. 0 is perfect calibration; an empty bin adds nothing."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    index = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(index, minlength=bins)
    gaps = np.abs(
        np.bincount(index, weights=p, minlength=bins)
        - np.bincount(index, weights=y, minlength=bins)
    )
    return float(gaps.sum() / counts.sum())


def cross_fitted_probabilities(
    score_model: BaseEstimator,
    x: pd.DataFrame,
    y: np.ndarray,
    seed: int,
    folds: int = CALIBRATION_FOLDS,
) -> np.ndarray:
    """Calibrate a fitted score model on ``(x, y)`` without letting a row's
    label calibrate its own probability: per stratified fold, the
    calibration is fitted on the other folds and applied to this one."""
    p = np.empty(len(y))
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y)
    for calibration_rows, held_out in splits:
        calibrated = CalibratedClassifierCV(
            FrozenEstimator(score_model), method=CALIBRATION
        ).fit(x.iloc[calibration_rows], y[calibration_rows])
        p[held_out] = calibrated.predict_proba(x.iloc[held_out])[:, 1]
    return p


def candidate_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """The figures every candidate is judged by on the test snapshot."""
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier_score": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p),
        "top_decile_lift": top_decile_lift(y, p),
        "mean_predicted": float(p.mean()),
    }


def choose_candidate(figures: dict[str, dict[str, float]]) -> str:
    """The candidate with the lowest :data:`PRIMARY_METRIC`; a tie goes to
    the simpler one (later in :data:`CANDIDATES`, unknown names last)."""
    order = {name: i for i, name in enumerate(CANDIDATES)}
    return min(
        figures,
        key=lambda name: (figures[name][PRIMARY_METRIC], -order.get(name, -1)),
    )


EVALUATION_COLUMNS: dict[str, str] = {
    "candidate": "str",
    "metric_name": "str",
    "metric_value": "float64",
    "is_published": "bool",
    "note": "str",
}


def _evaluation_frame(
    rows: list[tuple[str, str, float, bool, str | None]],
) -> pd.DataFrame:
    """Evaluation rows as the frame the int_* evaluation models store (a
    missing note is null)."""
    frame = pd.DataFrame(rows, columns=list(EVALUATION_COLUMNS))
    return frame.astype(EVALUATION_COLUMNS)


def evaluate_candidates(
    train: pd.DataFrame,
    test: pd.DataFrame,
    label: Callable[[pd.DataFrame], np.ndarray],
    seed: int,
    train_name: str = "training",
    test_name: str = "test",
    candidates: tuple[str, ...] = CANDIDATES,
) -> pd.DataFrame:
    """Every candidate judged out of time, and the winner.

    Each candidate's score model is fitted on ``train`` and calibrated on
    ``test`` (cross-fitted, :func:`cross_fitted_probabilities`); the figures
    of :func:`candidate_metrics` and the snapshots' sizes and label rates
    are rows of (candidate, metric_name, metric_value, is_published, note).
    The candidate with the lowest :data:`PRIMARY_METRIC` is published: its
    rows are ``is_published``, and its ``fitted`` row (1) and primary-metric
    row carry a note saying so. When either snapshot cannot be learned from
    or judged on, the one row is candidate ``none``, ``fitted`` = 0, with
    the reason as note.
    """
    reason = not_fitted_reason(train, label, train_name) or not_fitted_reason(
        test, label, test_name
    )
    prepared = None if reason else _prepare(train, label, seed, None)
    if prepared is None:
        return _evaluation_frame([("none", "fitted", 0.0, True, reason)])
    x_train, y_train, n_available = prepared
    # ties in calibrated scores are ranked by customer, not arrival
    test = _sorted(test)
    x_test, y_test = _matrix(test, tuple(x_train.columns)), label(test)
    shared = {
        "training_rows": float(len(y_train)),
        "training_snapshot_rows": float(n_available),
        "training_label_rate": float(y_train.mean()),
        "test_rows": float(len(y_test)),
        "test_label_rate": float(y_test.mean()),
    }
    figures = {}
    for candidate in candidates:
        score_model = ranker(candidate, seed).fit(x_train, y_train)
        p = cross_fitted_probabilities(score_model, x_test, y_test, seed)
        figures[candidate] = candidate_metrics(y_test, p)
    winner = choose_candidate(figures)
    ranked = sorted(figures, key=lambda name: figures[name][PRIMARY_METRIC])
    runner_up = next((name for name in ranked if name != winner), None)
    note = (
        f"published: lowest out-of-time {PRIMARY_METRIC} of {len(figures)} "
        f"candidates ({figures[winner][PRIMARY_METRIC]:.4f}"
        + (
            f"; next {runner_up} {figures[runner_up][PRIMARY_METRIC]:.4f})"
            if runner_up
            else ")"
        )
    )
    rows: list[tuple[str, str, float, bool, str | None]] = []
    for candidate in candidates:
        published = candidate == winner
        if published:
            rows.append((candidate, "fitted", 1.0, True, note))
        for metric_name, value in {**shared, **figures[candidate]}.items():
            rows.append(
                (
                    candidate,
                    metric_name,
                    value,
                    published,
                    note if published and metric_name == PRIMARY_METRIC else None,
                )
            )
    return _evaluation_frame(rows)


def published_candidate(evaluation: pd.DataFrame) -> tuple[str | None, str | None]:
    """The candidate an evaluation published and None, or None and the
    reason it could not fit."""
    fitted = evaluation.loc[
        (evaluation["metric_name"] == "fitted") & evaluation["is_published"]
    ]
    if len(fitted) != 1:
        raise ValueError("an evaluation has exactly one published 'fitted' row")
    row = fitted.iloc[0]
    if row["metric_value"] == 1:
        return str(row["candidate"]), None
    return None, str(row["note"])


def explain(
    model: PropensityModel, snapshot: pd.DataFrame, top: int = REASON_COUNT
) -> list[str]:
    """Per row, the ``top`` features that raise the probability most, as
    ``feature=value (+delta)``; features that lower it are not reasons."""
    x = _matrix(snapshot, model.features)
    if x.empty:
        return []
    probability = model.reason_model.predict_proba
    base = probability(x)[:, 1]
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
        contributions[changed, j] = base[changed] - probability(neutral)[:, 1]
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


SCORING_FIT_COLUMNS: dict[str, str] = {
    "model_name": "str",
    "candidate": "str",
    "horizon_days": "Int64",
    "training_rows": "Int64",
    "training_snapshot_rows": "Int64",
    "model_format": "str",
    "model": "object",
    "note": "str",
}
"""The stored scoring model of a propensity model: one row, with the
fitted model in ``model`` (skops bytes, null when nothing was fitted and
``note`` says why)."""


def fit_scoring_model(
    model_name: str,
    evaluation: pd.DataFrame,
    snapshot: pd.DataFrame,
    label: Callable[[pd.DataFrame], np.ndarray],
    seed: int,
    snapshot_name: str = "the latest labelled snapshot",
) -> pd.DataFrame:
    """The candidate ``evaluation`` published, fitted for scoring on
    ``snapshot`` (:func:`fit_propensity`), as one row of
    :data:`SCORING_FIT_COLUMNS`. Candidate ``none`` and no model, with the
    reason as note, when the evaluation fitted nothing or the snapshot
    cannot be learned from."""
    candidate, reason = published_candidate(evaluation)
    model = None
    if candidate is not None:
        model = fit_propensity(snapshot, label, seed, candidate=candidate)
        if model is None:
            reason = not_fitted_reason(snapshot, label, snapshot_name)
    if model is not None:
        horizon = model.horizon_days
    else:
        horizon = _horizon(snapshot) if len(snapshot) else None
    row = {
        "model_name": model_name,
        "candidate": "none" if model is None else model.candidate,
        "horizon_days": horizon,
        "training_rows": None if model is None else model.n_rows,
        "training_snapshot_rows": len(snapshot),
        "model_format": MODEL_FORMAT,
        "model": None if model is None else dump_model(model),
        "note": reason,
    }
    return pd.DataFrame([row]).astype(SCORING_FIT_COLUMNS)


def stale_scoring_models(
    stored: pd.DataFrame, published: Mapping[str, str | None]
) -> str | None:
    """Why stored scoring models cannot be used although the refit schedule
    keeps them, or None: each model name of ``published`` (its evaluation's
    published candidate, None when nothing was fitted) must have one stored
    row, of that candidate, written by this :data:`MODEL_FORMAT`."""
    for model_name, candidate in published.items():
        rows = stored.loc[stored["model_name"] == model_name]
        if len(rows) != 1:
            return f"no stored {model_name} model"
        row = rows.iloc[0]
        if row["model_format"] != MODEL_FORMAT:
            return (
                f"the stored {model_name} model was written by "
                f"{row['model_format']}, this is {MODEL_FORMAT}"
            )
        if row["candidate"] != (candidate or "none"):
            return (
                f"the {model_name} evaluation publishes {candidate or 'none'}, "
                f"the stored model is {row['candidate']}"
            )
    return None


def stored_scoring_model(
    fits: pd.DataFrame, model_name: str
) -> tuple[PropensityModel | None, str | None]:
    """The stored scoring model of ``model_name`` and None, or None and the
    reason nothing was fitted."""
    rows = fits.loc[fits["model_name"] == model_name]
    if len(rows) != 1:
        raise ValueError(f"expected one stored {model_name} model, got {len(rows)}")
    row = rows.iloc[0]
    if not isinstance(row["model"], bytes | bytearray | memoryview):
        return None, str(row["note"])
    return load_model(row["model"]), None


def score_churn(model: PropensityModel | None, current: pd.DataFrame) -> pd.DataFrame:
    """Score ``current`` (active customers) with a fitted churn ``model``:
    the calibrated probability of no purchase in the model's horizon, its
    risk band and, for the :data:`REASON_LIMIT` riskiest, the reasons.
    Empty when ``model`` is None (nothing was fitted)."""
    if model is None or current.empty:
        return pd.DataFrame(columns=list(CHURN_COLUMNS)).astype(CHURN_COLUMNS)
    p = predict(model, current)
    reasons = np.full(len(current), None, dtype=object)
    riskiest = np.argsort(-p, kind="stable")[:REASON_LIMIT]
    reasons[riskiest] = explain(model, current.iloc[riskiest])
    return pd.DataFrame(
        {
            "customer_id": current["customer_id"].to_numpy(),
            "churn_risk_band": risk_band(p),
            "churn_reasons": reasons,
            "p_churn": p,
            "horizon_days": model.horizon_days,
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


def category_rows(metrics: list[tuple[str, float]], published: bool) -> pd.DataFrame:
    """The category evaluation as evaluation rows of the candidate
    ``category_affinity`` (published with the purchase scores)."""
    return _evaluation_frame(
        [("category_affinity", name, value, published, None) for name, value in metrics]
    )


def score_purchase(
    model: PropensityModel | None,
    current: pd.DataFrame,
    current_categories: pd.DataFrame,
) -> pd.DataFrame:
    """Score ``current`` with a fitted purchase ``model``: the calibrated
    probability of a purchase in the model's horizon and the most likely
    category. Empty when ``model`` is None (nothing was fitted)."""
    if model is None or current.empty:
        return pd.DataFrame(columns=list(PURCHASE_COLUMNS)).astype(PURCHASE_COLUMNS)
    scored = pd.DataFrame(
        {
            "customer_id": current["customer_id"].to_numpy(),
            "p_purchase": predict(model, current),
            "horizon_days": model.horizon_days,
        }
    ).merge(category_affinity(current_categories), on="customer_id", how="left")
    return scored[list(PURCHASE_COLUMNS)].astype(PURCHASE_COLUMNS)
