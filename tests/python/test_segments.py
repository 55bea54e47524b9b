"""Segmentation on small planted frames: k, membership, names, one-time buyers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from crm_analytics.ml.segments import (
    EARLY_STAGE_APART,
    PUBLISHED,
    SEGMENT_FEATURES,
    UNSEGMENTED,
    assign_segments,
    fit_segments,
    name_segments,
    not_fitted_reason,
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


def metric_values(model: pd.DataFrame, candidate: str = PUBLISHED) -> dict:
    rows = model.loc[
        (model["parameter_name"] == "metric") & (model["candidate"] == candidate)
    ]
    return dict(zip(rows["feature_name"], rows["value"], strict=True))


def one_order_of_each_style(seed: int = 5, n_per_style: int = 40) -> pd.DataFrame:
    """One-time buyers: one order's lines, units, price and discount
    (drawn noisier than the planted averages), purchase days per year as
    the feature snapshot computes it for one purchase (365.25 / days since
    it, here 30 to 400 days ago)."""
    rng = np.random.default_rng(seed)
    frames = []
    for style, centre in STYLES.items():
        values = {
            feature: np.abs(value * rng.normal(1, 0.2, n_per_style))
            for feature, value in zip(SEGMENT_FEATURES, centre, strict=True)
        }
        values["pct_orders_discounted"] = (rng.random(n_per_style) < centre[4]).astype(
            float
        )
        days = rng.integers(30, 400, n_per_style)
        values["purchase_days_per_year"] = 365.25 / (days + 1)
        frames.append(pd.DataFrame({"style": style, **values}))
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "customer_id", [f"o{i:04d}" for i in range(len(frame))])
    frame["count_purchase_days"] = 1
    return frame


def test_one_time_buyers_get_the_nearest_segment_of_the_repeat_buyers():
    repeat = planted()
    once = one_order_of_each_style()
    everyone = pd.concat([repeat, once], ignore_index=True)
    model = fit_segments(everyone, seed=42)
    metric = metric_values(model)
    # centroids come from the repeat buyers only: the same model as without
    # the one-time buyers
    alone = fit_segments(repeat, seed=42)
    pd.testing.assert_frame_equal(
        model.loc[model["parameter_name"] == "centroid"].reset_index(drop=True),
        alone.loc[alone["parameter_name"] == "centroid"].reset_index(drop=True),
    )
    assert metric["clustered_customers"] == len(repeat)
    assert metric["coverage"] == 1.0 and metric["fitted"] == 1.0
    segments = assign_segments(everyone, model)
    assert segments["segment_id"].str.startswith("seg_").all()
    assert segments["segment_name"].notna().all()
    assert (segments["is_clustered"] == (everyone["count_purchase_days"] >= 2)).all()
    assert segments["distance_to_centroid"].notna().all()
    # a one-time buyer lands in the segment of its planted style when one
    # order shows the style (price, discount); a regular's frequency cannot
    # show in one order, so regulars are recovered less often
    by_style = repeat.assign(segment=segments["segment_id"][: len(repeat)])
    style_segment = by_style.groupby("style")["segment"].agg(lambda s: s.mode()[0])
    hit = (
        pd.Series(
            segments["segment_id"][len(repeat) :].to_numpy()
            == once["style"].map(style_segment).to_numpy()
        )
        .groupby(once["style"].to_numpy())
        .mean()
    )
    assert hit["premium"] >= 0.9 and hit["deal"] >= 0.9
    assert hit.mean() > 0.6


def test_one_time_buyer_alone_gets_the_same_segment_as_in_the_crowd():
    everyone = pd.concat([planted(), one_order_of_each_style()], ignore_index=True)
    model = fit_segments(everyone, seed=42)
    together = assign_segments(everyone, model)
    single = everyone.loc[everyone["count_purchase_days"] == 1].head(3)
    alone = assign_segments(single, model)
    assert list(alone["segment_id"]) == list(together.loc[single.index, "segment_id"])
    assert not alone["is_clustered"].any()


def test_the_former_early_stage_scheme_is_recorded_with_its_coverage():
    features = planted()
    features.loc[:29, "count_purchase_days"] = 3
    model = fit_segments(features, seed=42)
    apart = metric_values(model, EARLY_STAGE_APART)
    assert apart["coverage"] == pytest.approx((len(features) - 30) / len(features))
    assert apart["clustered_customers"] == len(features) - 30
    assert metric_values(model)["coverage"] == 1.0
    note = model.loc[
        (model["candidate"] == PUBLISHED) & (model["feature_name"] == "fitted"),
        "note",
    ].iloc[0]
    assert "nearest centroid" in note


def test_too_few_customers_is_not_fitted_with_a_reason_and_everyone_unsegmented():
    features = planted(n_per_style=5)
    model = fit_segments(features, seed=42)
    assert set(model["parameter_name"]) == {"metric"}
    metric = metric_values(model)
    assert metric["fitted"] == 0.0 and metric["coverage"] == 0.0
    note = model.loc[model["feature_name"] == "fitted", "note"].iloc[0]
    assert note == "15 buyers with at least 2 purchase days; at least 81 needed"
    assert not_fitted_reason(model) == note
    assert not_fitted_reason(fit_segments(planted(), seed=42)) == ""
    segments = assign_segments(features, model)
    assert (segments["segment_id"] == UNSEGMENTED).all()
    assert segments["segment_name"].notna().all()


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
