"""Segmentation on small planted frames: k, membership, names, early stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from crm_analytics.ml.segments import (
    EARLY_STAGE,
    SEGMENT_FEATURES,
    assign_segments,
    fit_segments,
    name_segments,
)

# Three planted shopping styles: frequent full-price regulars, premium
# buyers and deal seekers (centres on the raw scale).
STYLES = {
    "regular": (20.0, 2.0, 1.3, 1.0, 0.1),
    "premium": (4.0, 1.5, 1.0, 3.5, 0.1),
    "deal": (8.0, 2.5, 1.4, 0.6, 0.9),
}


def planted(n_per_style: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for style, centre in STYLES.items():
        values = {
            feature: np.abs(value * rng.normal(1, 0.08, n_per_style))
            for feature, value in zip(SEGMENT_FEATURES, centre, strict=True)
        }
        values["pct_orders_discounted"] = np.clip(values["pct_orders_discounted"], 0, 1)
        frames.append(pd.DataFrame({"style": style, **values}))
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "customer_id", [f"c{i:04d}" for i in range(len(frame))])
    frame["count_purchase_days"] = 10
    return frame


def test_planted_styles_are_recovered_with_k_chosen_by_silhouette():
    features = planted()
    model = fit_segments(features, seed=42, k_range=range(2, 7))
    metrics = model.loc[model["parameter_name"] == "metric"]
    metric = dict(zip(metrics["feature_name"], metrics["value"], strict=True))
    assert metric["k"] == 3
    assert metric["silhouette"] == max(
        value for name, value in metric.items() if name.startswith("silhouette_k")
    )
    segments = assign_segments(features, model)
    assert adjusted_rand_score(features["style"], segments["segment_id"]) == 1.0


def test_segment_names_describe_the_planted_styles():
    features = planted()
    segments = assign_segments(features, fit_segments(features, seed=42))
    names = features.assign(name=segments["segment_name"]).groupby("style")["name"]
    named = names.agg(lambda s: s.mode().iloc[0])
    assert named["premium"].startswith("premium")
    assert "deal-seeking" in named["deal"]
    assert "frequent" in named["regular"]


def test_name_segments_uses_the_two_furthest_features_and_numbers_duplicates():
    centroids = pd.DataFrame(
        [[0.1, 0.0, 0.0, 2.0, -0.9], [0.1, 0.0, 0.0, 2.0, -0.9], [0.2, 0, 0, 0, 0]],
        columns=list(SEGMENT_FEATURES),
    )
    assert name_segments(centroids) == [
        "premium full-price 1",
        "premium full-price 2",
        "typical",
    ]


def test_customers_with_few_purchase_days_are_early_stage():
    features = planted()
    features.loc[:9, "count_purchase_days"] = 4
    segments = assign_segments(features, fit_segments(features, seed=42))
    assert (segments.loc[:9, "segment_id"] == EARLY_STAGE).all()
    assert not segments.loc[:9, "is_clustered"].any()
    assert segments.loc[:9, "distance_to_centroid"].isna().all()
    assert segments.loc[10:, "is_clustered"].all()


def test_too_few_customers_gives_metrics_only_and_everyone_early_stage():
    features = planted(n_per_style=5)
    model = fit_segments(features, seed=42)
    assert set(model["parameter_name"]) == {"metric"}
    segments = assign_segments(features, model)
    assert (segments["segment_id"] == EARLY_STAGE).all()


def test_same_seed_gives_identical_segments_and_ids_follow_size():
    features = pd.concat([planted(), planted(n_per_style=60, seed=1)])
    first = assign_segments(features, fit_segments(features, seed=7))
    second = assign_segments(features, fit_segments(features, seed=7))
    pd.testing.assert_frame_equal(first, second)
    sizes = first["segment_id"].value_counts()
    assert list(sizes.index) == sorted(sizes.index, key=lambda s: -sizes[s])


def test_assignment_uses_the_fitted_scaling_not_the_new_rows():
    features = planted()
    model = fit_segments(features, seed=42)
    one_premium = features.loc[features["style"] == "premium"].head(1)
    alone = assign_segments(one_premium, model)
    together = assign_segments(features, model)
    assert (
        alone["segment_id"].iloc[0] == together.loc[one_premium.index[0], "segment_id"]
    )


def test_missing_feature_is_a_clear_error():
    with pytest.raises(ValueError, match="avg_price_index"):
        fit_segments(planted().drop(columns="avg_price_index"), seed=1)


def test_row_order_does_not_change_the_segments():
    features = pd.concat(
        [planted(), planted(n_per_style=60, seed=1)], ignore_index=True
    )
    features["customer_id"] = [f"c{i:04d}" for i in range(len(features))]
    shuffled = features.sample(frac=1.0, random_state=3)
    first = assign_segments(features, fit_segments(features, seed=7))
    second = assign_segments(features, fit_segments(shuffled, seed=7))
    pd.testing.assert_frame_equal(first, second)
