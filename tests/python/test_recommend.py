"""Item-based recommendations on matrices small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_analytics.ml import recommend
from crm_analytics.ml.recommend import (
    RECOMMENDATION_COLUMNS,
    evaluate_recommendations,
    item_similarity,
    purchase_matrix,
    recommend_products,
)


def purchases(pairs: str) -> pd.DataFrame:
    """'a:x a:y b:x' -> customer/product rows."""
    rows = [pair.split(":") for pair in pairs.split()]
    return pd.DataFrame(rows, columns=["customer_id", "product_id"])


# a buys x, y; b buys x, y, z; c buys y, z; d buys x
SMALL = purchases("a:x a:y a:x b:x b:y b:z c:y c:z d:x")


def test_cosine_similarity_by_hand():
    matrix, _, products = purchase_matrix(SMALL)
    similarity = pd.DataFrame(item_similarity(matrix), products, products)
    # buyers: x {a,b,d}, y {a,b,c}, z {b,c}
    assert similarity.loc["x", "y"] == pytest.approx(2 / np.sqrt(3 * 3))
    assert similarity.loc["x", "z"] == pytest.approx(1 / np.sqrt(3 * 2))
    assert similarity.loc["y", "z"] == pytest.approx(2 / np.sqrt(3 * 2))
    assert similarity.loc["x", "x"] == 0


def test_scores_ranks_and_explanations_by_hand():
    recs = recommend_products(SMALL, k=10).set_index(["customer_id", "product_id"])
    # a bought x, y: z scores sim(x,z) + sim(y,z); y explains it (0.816 > 0.408)
    assert recs.loc[("a", "z"), "score"] == pytest.approx(
        1 / np.sqrt(6) + 2 / np.sqrt(6)
    )
    assert recs.loc[("a", "z"), "because_product_id"] == "y"
    # d bought x only: y (0.667) before z (0.408)
    d = recs.loc["d"].sort_values("recommendation_rank")
    assert list(d.index) == ["y", "z"]
    assert d["score"].tolist() == pytest.approx([2 / 3, 1 / np.sqrt(6)])
    assert (d["because_product_id"] == "x").all()
    # b bought everything: nothing left to recommend
    assert "b" not in recs.index.get_level_values("customer_id")


def test_never_recommends_what_was_bought_and_k_limits_the_list():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 300, 3000).astype(str),
            "product_id": rng.integers(0, 40, 3000).astype(str),
        }
    )
    recs = recommend_products(frame, k=5)
    bought = frame.drop_duplicates().assign(bought=True)
    joined = recs.merge(bought, on=["customer_id", "product_id"], how="left")
    assert joined["bought"].isna().all()
    assert recs.groupby("customer_id").size().max() == 5
    assert recs["recommendation_rank"].between(1, 5).all()
    assert (recs["score"] > 0).all()
    assert recs["recommendation_rank"].dtype == "int64"
    assert recs["score"].dtype == "float64"


def test_ties_go_to_the_first_product_and_results_are_deterministic():
    # e bought p; q and r are each bought with p once: equal scores
    frame = purchases("e:p f:p f:q g:p g:r")
    recs = recommend_products(frame, k=1)
    assert recs.set_index("customer_id").loc["e", "product_id"] == "q"
    pd.testing.assert_frame_equal(recs, recommend_products(frame, k=1))


def test_batches_give_the_same_answer(monkeypatch):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 500, 4000).astype(str),
            "product_id": rng.integers(0, 30, 4000).astype(str),
        }
    )
    whole = recommend_products(frame)
    monkeypatch.setattr(recommend, "BATCH_CELLS", 30 * 7)
    pd.testing.assert_frame_equal(recommend_products(frame), whole)


def test_empty_input_and_bad_input():
    empty = recommend_products(
        purchases("").reindex(columns=["customer_id", "product_id"])
    )
    assert empty.empty and list(empty.columns) == list(RECOMMENDATION_COLUMNS)
    with pytest.raises(ValueError, match="product_id"):
        recommend_products(pd.DataFrame({"customer_id": ["a"]}))
    with pytest.raises(ValueError, match="k must be"):
        recommend_products(SMALL, k=0)


def test_time_split_evaluation_on_a_planted_pair():
    # Everyone who buys "kettle" later buys "tea"; "bread" is what most
    # people buy. Customers n0..n9 bought a kettle before the split and tea
    # after it: item CF finds tea, popularity offers bread first.
    before = [f"n{i}:kettle" for i in range(10)] + [
        f"o{i}:kettle o{i}:tea" for i in range(5)
    ]
    before += [f"p{i}:bread p{i}:milk" for i in range(30)] + [
        f"n{i}:jam" for i in range(10)
    ]
    after = [f"n{i}:tea" for i in range(10)]
    frame = pd.concat(
        [
            purchases(" ".join(before)).assign(order_date="2024-01-01"),
            purchases(" ".join(after)).assign(order_date="2024-03-01"),
        ]
    )
    metrics = dict(evaluate_recommendations(frame, "2024-02-01", k=1))
    assert metrics["evaluation_customers"] == 10
    assert metrics["hit_rate_at_1"] == 1.0
    assert metrics["popularity_hit_rate_at_1"] == 0.0
    assert evaluate_recommendations(frame, "2025-01-01") == []
