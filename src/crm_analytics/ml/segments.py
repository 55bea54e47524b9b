"""Behavioural customer segmentation: k-means on five shopping-style features.

Customers with at least ``min_purchase_days`` purchase days are clustered on
how often they buy (purchase days per year), basket breadth (lines per
order), basket depth (units per line), price level (unit price over the
category's median list price) and deal seeking (share of orders with a
discount). Counts and ratios are log-scaled, every feature is clipped to its
1st-99th percentile (so a handful of resellers cannot claim a cluster of
their own) and standardised. k is the value in ``k_range`` with the best
silhouette on a sample. Each segment is named after the features that set
it apart from the clustered population.

Every buyer gets a segment, in two stages. The centroids are fitted on the
buyers with at least ``min_purchase_days`` purchase days (2 by default: one
order's style is too noisy to shape a centroid), and the others, the
one-time buyers, are assigned to the nearest of those centroids on the same
five features (each exists after one purchase); ``is_clustered`` tells the
two apart. On the demo data this scores an adjusted Rand index of 0.63
against the planted personas over all buyers, against 0.37 when the buyers
below five purchase days formed one ``early_stage`` group
(docs/ml_models.md has the candidates, and why 0.8 is not reached). With
too few buyers to cluster, everyone gets the single segment
``unsegmented`` and the model's ``fitted`` row says why.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

SEGMENT_FEATURES: dict[str, bool] = {
    "purchase_days_per_year": True,
    "avg_lines_per_order": True,
    "avg_units_per_line": True,
    "avg_price_index": True,
    "pct_orders_discounted": False,
}
"""Clustering features; True where the feature is log-scaled first."""

FEATURE_LABELS: dict[str, tuple[str, str]] = {
    "purchase_days_per_year": ("frequent", "infrequent"),
    "avg_lines_per_order": ("broad-basket", "single-item"),
    "avg_units_per_line": ("bulk-buying", "single-unit"),
    "avg_price_index": ("premium", "budget"),
    "pct_orders_discounted": ("deal-seeking", "full-price"),
}
"""Words for a segment whose mean is far above / below the population."""

UNSEGMENTED = "unsegmented"
UNSEGMENTED_NAME = "unsegmented (too few buyers)"
CLIP_QUANTILES = (0.01, 0.99)
SILHOUETTE_SAMPLE = 10_000
SELECTION_SAMPLE = 50_000

SEGMENT_COLUMNS: dict[str, str] = {
    "customer_id": "str",
    "segment_id": "str",
    "segment_name": "str",
    "distance_to_centroid": "float64",
    "is_clustered": "bool",
}
PUBLISHED = "kmeans_nearest_centroid"
"""The published scheme: k-means on the established buyers, everyone else
to the nearest centroid."""
EARLY_STAGE_APART = "kmeans_early_stage_apart"
"""The former scheme, recorded for comparison: buyers below
:data:`EARLY_STAGE_DAYS` purchase days are not segmented."""
EARLY_STAGE_DAYS = 5

MODEL_COLUMNS: dict[str, str] = {
    "candidate": "str",
    "segment_id": "str",
    "segment_name": "str",
    "parameter_name": "str",
    "feature_name": "str",
    "value": "float64",
    "note": "str",
}
"""The fitted model, long: per feature its ``clip_low``, ``clip_high``,
``mean`` and ``std`` (segment_id null); per segment and feature its
standardised ``centroid``; and ``metric`` rows (feature_name = metric),
``note`` saying in words what a ``fitted`` or candidate row means."""


def _check_columns(frame: pd.DataFrame, required: Sequence[str]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"features frame lacks columns: {', '.join(missing)}")


def _log_scaled(features: pd.DataFrame) -> pd.DataFrame:
    frame = features[list(SEGMENT_FEATURES)].astype(float)
    for column, is_log in SEGMENT_FEATURES.items():
        if is_log:
            frame[column] = np.log(frame[column].clip(lower=0) + 0.01)
    return frame


def fit_transform(features: pd.DataFrame) -> dict[str, pd.Series]:
    """Per-feature clip bounds (1st-99th percentile), mean and std of the
    log-scaled features; nulls are ignored here and filled with the mean
    (0 after scaling) by :func:`apply_transform`."""
    frame = _log_scaled(features)
    low, high = frame.quantile(CLIP_QUANTILES[0]), frame.quantile(CLIP_QUANTILES[1])
    clipped = frame.clip(low, high, axis=1)
    spread = clipped.std(ddof=0).fillna(1.0).replace(0, 1.0)
    return {
        "clip_low": low,
        "clip_high": high,
        "mean": clipped.mean().fillna(0.0),
        "std": spread,
    }


def apply_transform(
    features: pd.DataFrame, transform: dict[str, pd.Series]
) -> pd.DataFrame:
    """Log-scale, clip and standardise with fitted bounds; nulls become 0."""
    frame = _log_scaled(features).clip(
        transform["clip_low"], transform["clip_high"], axis=1
    )
    return ((frame - transform["mean"]) / transform["std"]).fillna(0.0)


def choose_k(
    scaled: np.ndarray, k_range: Sequence[int], seed: int
) -> tuple[int, dict[int, float]]:
    """The k in ``k_range`` with the highest silhouette, on samples."""
    rng = np.random.default_rng(seed)
    if len(scaled) > SELECTION_SAMPLE:
        scaled = scaled[rng.choice(len(scaled), SELECTION_SAMPLE, replace=False)]
    scores = {}
    for k in k_range:
        if k >= len(scaled):
            continue
        labels = KMeans(k, n_init=10, random_state=seed).fit_predict(scaled)
        scores[k] = float(
            silhouette_score(
                scaled,
                labels,
                sample_size=min(SILHOUETTE_SAMPLE, len(scaled)),
                random_state=seed,
            )
        )
    if not scores:
        raise ValueError("too few customers for any k in k_range")
    return max(scores, key=scores.__getitem__), scores


def name_segments(centroids: pd.DataFrame) -> list[str]:
    """A readable name per centroid (standardised feature means).

    The name joins the words of the two features furthest from the
    population mean (|z| >= 0.5), the first being the furthest; a segment
    with no such feature is ``typical``. Duplicate names get a number.
    """
    names = []
    for _, centroid in centroids.iterrows():
        order = centroid.abs().sort_values(ascending=False, kind="stable")
        words = [
            FEATURE_LABELS[feature][0 if centroid[feature] > 0 else 1]
            for feature in order.index[:2]
            if abs(centroid[feature]) >= 0.5
        ]
        names.append(" ".join(words) if words else "typical")
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(f"{name} {seen[name]}" if names.count(name) > 1 else name)
    return unique


def fit_segments(
    features: pd.DataFrame,
    seed: int,
    min_purchase_days: int = 2,
    k_range: Sequence[int] = range(3, 9),
) -> pd.DataFrame:
    """Fit the segmentation on the customers of ``features`` (one row per
    customer with :data:`SEGMENT_FEATURES` and ``count_purchase_days``).

    The centroids are fitted on the customers with at least
    ``min_purchase_days`` purchase days; :func:`assign_segments` gives
    everyone, one-time buyers included, the nearest of them.

    Returns the model as a long frame (:data:`MODEL_COLUMNS`). Segment ids
    are ``seg_1`` ... ``seg_k`` by size, largest first, so identical builds
    give identical ids. With too few eligible customers (fewer than ten per
    k) the model holds metric rows only, ``fitted`` is 0 with the reason in
    ``note``, and everyone is ``unsegmented``. Metric rows of the candidate
    :data:`EARLY_STAGE_APART` record what the former scheme (buyers below
    :data:`EARLY_STAGE_DAYS` purchase days left in one ``early_stage``
    group) would cover.
    """
    _check_columns(features, ["count_purchase_days", *SEGMENT_FEATURES])
    if "customer_id" in features.columns:
        # k-means' seeding depends on row order: make it the customers'
        features = features.sort_values("customer_id", kind="stable")
    eligible = features.loc[features["count_purchase_days"] >= min_purchase_days]
    needed = 10 * max(k_range, default=0) + 1
    is_fitted = len(eligible) >= needed
    note = (
        f"centroids fitted on {len(eligible):,} buyers with at least "
        f"{min_purchase_days} purchase days; the other buyers, one-time "
        "buyers included, get the nearest centroid"
        if is_fitted
        else f"{len(eligible):,} buyers with at least {min_purchase_days} "
        f"purchase days; at least {needed} needed"
    )
    rows: list[tuple[object, object, str, str, float, object]] = [
        (None, None, "metric", "customers", float(len(features)), None),
        (None, None, "metric", "clustered_customers", float(len(eligible)), None),
        (None, None, "metric", "min_purchase_days", float(min_purchase_days), None),
        (None, None, "metric", "fitted", float(is_fitted), note),
        (
            None,
            None,
            "metric",
            "coverage",
            float(is_fitted and len(features) > 0),
            None,
        ),
    ]
    if is_fitted:
        transform = fit_transform(eligible)
        scaled = apply_transform(eligible, transform).to_numpy()
        k, silhouettes = choose_k(scaled, k_range, seed)
        kmeans = KMeans(k, n_init=10, random_state=seed).fit(scaled)
        sizes = np.bincount(kmeans.labels_, minlength=k)
        by_size = np.argsort(-sizes, kind="stable")
        centroids = pd.DataFrame(
            kmeans.cluster_centers_[by_size], columns=list(SEGMENT_FEATURES)
        )
        names = name_segments(centroids)
        for parameter, values in transform.items():
            rows += [
                (None, None, parameter, f, float(v), None) for f, v in values.items()
            ]
        pairs = zip(names, centroids.itertuples(), strict=True)
        for i, (name, centroid) in enumerate(pairs):
            rows += [
                (
                    f"seg_{i + 1}",
                    name,
                    "centroid",
                    f,
                    float(getattr(centroid, f)),
                    None,
                )
                for f in SEGMENT_FEATURES
            ]
        rows += [
            (None, None, "metric", "k", float(k), None),
            (None, None, "metric", "silhouette", silhouettes[k], None),
            (None, None, "metric", "inertia", float(kmeans.inertia_), None),
        ]
        rows += [
            (None, None, "metric", f"silhouette_k{key}", value, None)
            for key, value in silhouettes.items()
        ]
    model = pd.DataFrame(rows, columns=[c for c in MODEL_COLUMNS if c != "candidate"])
    model.insert(0, "candidate", PUBLISHED)
    established = int((features["count_purchase_days"] >= EARLY_STAGE_DAYS).sum())
    apart = pd.DataFrame(
        {
            "candidate": EARLY_STAGE_APART,
            "segment_id": None,
            "segment_name": None,
            "parameter_name": "metric",
            "feature_name": ["clustered_customers", "coverage"],
            "value": [
                float(established),
                established / len(features) if len(features) else 0.0,
            ],
            "note": [
                None,
                f"former scheme: buyers with fewer than {EARLY_STAGE_DAYS} "
                "purchase days in one early_stage group, without a style",
            ],
        }
    )
    return pd.concat([model, apart], ignore_index=True).astype(MODEL_COLUMNS)


def not_fitted_reason(model: pd.DataFrame) -> str:
    """Why the published candidate of ``model`` was not fitted, in plain
    words; '' when it was."""
    fitted = model.loc[
        (model["candidate"] == PUBLISHED) & (model["feature_name"] == "fitted")
    ]
    if fitted.empty or fitted["value"].iloc[0] == 1.0:
        return ""
    return str(fitted["note"].iloc[0])


def _metrics(model: pd.DataFrame) -> dict[str, float]:
    """The published candidate's metrics by name."""
    if "candidate" in model.columns:
        model = model.loc[model["candidate"] == PUBLISHED]
    metrics = model.loc[model["parameter_name"] == "metric"]
    return dict(zip(metrics["feature_name"], metrics["value"], strict=True))


def assign_segments(features: pd.DataFrame, model: pd.DataFrame) -> pd.DataFrame:
    """Each customer's nearest segment centroid under the fitted ``model``.

    Every customer gets a segment: those below the model's
    ``min_purchase_days`` (one-time buyers included) are assigned to the
    nearest centroid too, with ``is_clustered`` false. Without centroids
    (the model could not be fitted) everyone is ``unsegmented``."""
    _check_columns(features, ["customer_id", "count_purchase_days", *SEGMENT_FEATURES])
    metric = _metrics(model)
    model = model.loc[model["candidate"] == PUBLISHED]
    centroid_rows = model.loc[model["parameter_name"] == "centroid"]
    customers = pd.DataFrame(
        {
            "customer_id": features["customer_id"].to_numpy(),
            "segment_id": UNSEGMENTED,
            "segment_name": UNSEGMENTED_NAME,
            "distance_to_centroid": np.nan,
            "is_clustered": False,
        }
    )
    if centroid_rows.empty or features.empty:
        return customers.astype(SEGMENT_COLUMNS)
    established = (
        features["count_purchase_days"] >= metric["min_purchase_days"]
    ).to_numpy()
    transform = {
        parameter: model.loc[model["parameter_name"] == parameter]
        .set_index("feature_name")["value"]
        .reindex(list(SEGMENT_FEATURES))
        for parameter in ("clip_low", "clip_high", "mean", "std")
    }
    centroids = centroid_rows.pivot_table(
        index=["segment_id", "segment_name"], columns="feature_name", values="value"
    )[list(SEGMENT_FEATURES)]
    scaled = apply_transform(features, transform).to_numpy()
    distances = np.linalg.norm(
        scaled[:, None, :] - centroids.to_numpy()[None, :, :], axis=2
    )
    nearest = distances.argmin(axis=1)
    ids, names = zip(*centroids.index, strict=True)
    customers["segment_id"] = np.asarray(ids)[nearest]
    customers["segment_name"] = np.asarray(names)[nearest]
    customers["distance_to_centroid"] = distances[np.arange(len(nearest)), nearest]
    customers["is_clustered"] = established
    return customers.astype(SEGMENT_COLUMNS)
