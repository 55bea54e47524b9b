"""Item-based recommendations on small hand-made purchase frames: the
cosine scores against a hand computation, exclusions, ties, batching and
the time-split evaluation on a planted pair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_analytics.ml import recommend
from crm_analytics.ml.recommend import (
    RECOMMENDATION_COLUMNS,
    evaluate_recommendations,
    evaluate_split,
    item_similarity,
    popular_products,
    purchase_matrix,
    recommend_products,
)

LOG2 = np.log(2.0)


def purchases(baskets: dict[str, str]) -> pd.DataFrame:
    """One line per letter: {"c1": "AB"} is c1 buying A and B once."""
    return pd.DataFrame(
        [
            (customer, product)
            for customer, bought in baskets.items()
            for product in bought
        ],
        columns=["customer_id", "product_id"],
    )


# Buyers: A {c1, c2, c4}, B {c1, c3}, C {c2, c3}, D {c3}. Every line is a
# single purchase, so each weight is log(1 + 1) and the cosines are
# co-buyers / sqrt(buyers_i * buyers_j):
# AB = AC = 1/sqrt(6), AD = 0, BC = 1/2, BD = CD = 1/sqrt(2).
TINY = purchases({"c1": "AB", "c2": "AC", "c3": "BCD", "c4": "A"})
AB = AC = 1 / np.sqrt(6)
BC = 1 / 2
BD = CD = 1 / np.sqrt(2)
HAND = [
    # customer, rank, product, score / log 2, because
    ("c1", 1, "C", AC + BC, "B"),
    ("c1", 2, "D", BD, "B"),
    ("c2", 1, "B", AB + BC, "C"),
    ("c2", 2, "D", CD, "C"),
    # B and C contribute 1/sqrt(6) each: the tie goes to B
    ("c3", 1, "A", AB + AC, "B"),
    # B and C score the same: ranked by product_id; D scores 0, left out
    ("c4", 1, "B", AB, "A"),
    ("c4", 2, "C", AC, "A"),
]


def test_scores_ranks_and_reasons_equal_the_hand_computation():
    result = recommend_products(TINY)
    expected = pd.DataFrame(
        HAND,
        columns=[
            "customer_id",
            "recommendation_rank",
            "product_id",
            "score",
            "because",
        ],
    )
    assert result["customer_id"].tolist() == expected["customer_id"].tolist()
    assert (
        result["recommendation_rank"].tolist()
        == expected["recommendation_rank"].tolist()
    )
    assert result["product_id"].tolist() == expected["product_id"].tolist()
    np.testing.assert_allclose(result["score"], expected["score"] * LOG2, rtol=1e-12)
    assert result["because_product_id"].tolist() == expected["because"].tolist()


def test_item_similarity_is_the_column_cosine_without_self_similarity():
    matrix, customers, products = purchase_matrix(TINY)
    assert customers.tolist() == ["c1", "c2", "c3", "c4"]
    assert products.tolist() == ["A", "B", "C", "D"]
    expected = np.array(
        [
            [0, AB, AC, 0],
            [AB, 0, BC, BD],
            [AC, BC, 0, CD],
            [0, BD, CD, 0],
        ]
    )
    np.testing.assert_allclose(item_similarity(matrix), expected, atol=1e-15)


def test_output_has_the_declared_columns_and_dtypes():
    result = recommend_products(TINY)
    assert list(result.columns) == list(RECOMMENDATION_COLUMNS)
    assert result.dtypes.astype(str).to_dict() == RECOMMENDATION_COLUMNS


def test_products_already_bought_are_never_recommended():
    rng = np.random.default_rng(3)
    lines = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 60, 600).astype(str),
            "product_id": np.char.add("P", rng.integers(0, 25, 600).astype(str)),
        }
    )
    result = recommend_products(lines, k=5)
    bought = lines.drop_duplicates()
    overlap = result.merge(bought, on=["customer_id", "product_id"])
    assert overlap.empty
    assert len(result) > 0
    assert (result["score"] > 0).all()
    assert (result["product_id"] != result["because_product_id"]).all()
    assert result.groupby("customer_id")["recommendation_rank"].max().max() == 5
    # because_product_id is always a product the customer bought
    reasons = result.rename(
        columns={"product_id": "recommended", "because_product_id": "product_id"}
    ).merge(bought, on=["customer_id", "product_id"])
    assert len(reasons) == len(result)


def test_because_is_the_bought_product_with_the_largest_term():
    # c buys X and Y; Z is bought with Y by three customers and with X by
    # one, so Y's term for Z is the larger one.
    lines = purchases(
        {"c": "XY", "a1": "YZ", "a2": "YZ", "a3": "YZ", "b1": "XZ", "b2": "X"}
    )
    result = recommend_products(lines).set_index("customer_id").loc[["c"]]
    assert result["product_id"].tolist() == ["Z"]
    assert result["because_product_id"].tolist() == ["Y"]
    # Y: 4 buyers, Z: 4, X: 3; co-buyers YZ 3, XZ 1.
    expected = LOG2 * (3 / np.sqrt(4 * 4) + 1 / np.sqrt(3 * 4))
    assert result["score"].iloc[0] == pytest.approx(expected, rel=1e-12)


def test_repeat_purchases_weigh_as_log_counts():
    once = recommend_products(purchases({"c": "AB", "d": "AC", "e": "BD"}))
    again = recommend_products(purchases({"c": "AAAB", "d": "AC", "e": "BD"}))
    # for c, C comes through A and D through B: equal while every line is
    # single, C first once c has bought A three times
    assert once.loc[once["customer_id"] == "c", "product_id"].tolist() == ["C", "D"]
    c_again = again.loc[again["customer_id"] == "c"]
    assert c_again["product_id"].tolist() == ["C", "D"]
    assert c_again["score"].iloc[0] > c_again["score"].iloc[1]
    assert once.loc[once["customer_id"] == "c", "score"].nunique() == 1


def test_k_limits_the_list():
    result = recommend_products(TINY, k=1)
    assert result.groupby("customer_id").size().eq(1).all()
    assert result["recommendation_rank"].eq(1).all()
    assert result["product_id"].tolist() == ["C", "B", "A", "B"]
    assert len(recommend_products(TINY, k=100)) == len(HAND)


def test_ties_are_broken_by_product_id_whatever_the_input_order():
    # P10, P2 and P9 are interchangeable for c: same score, ordered as
    # strings
    lines = purchases({"c": ["A"], "x": ["A", "P9", "P10", "P2"]})
    first = recommend_products(lines, k=2)
    assert first.loc[first["customer_id"] == "c", "product_id"].tolist() == [
        "P10",
        "P2",
    ]
    for seed in range(5):
        shuffled = lines.sample(frac=1, random_state=seed)
        pd.testing.assert_frame_equal(recommend_products(shuffled, k=2), first)


def test_batches_give_the_same_result_as_one_pass(monkeypatch):
    rng = np.random.default_rng(7)
    lines = pd.DataFrame(
        {
            "customer_id": np.char.add("c", rng.integers(0, 200, 3000).astype(str)),
            "product_id": np.char.add("p", rng.integers(0, 40, 3000).astype(str)),
        }
    )
    whole = recommend_products(lines)
    monkeypatch.setattr(recommend, "BATCH_CELLS", 3 * 40)
    batched = recommend_products(lines)
    pd.testing.assert_frame_equal(batched, whole)


def test_empty_input_gives_an_empty_frame_with_the_columns():
    empty = pd.DataFrame({"customer_id": pd.Series(dtype=str), "product_id": []})
    result = recommend_products(empty)
    assert result.empty
    assert result.dtypes.astype(str).to_dict() == RECOMMENDATION_COLUMNS
    # nobody who shares a product: no positive score, no rows
    assert recommend_products(purchases({"a": "X", "b": "Y"})).empty


def test_missing_values_are_ignored():
    lines = pd.concat(
        [TINY, pd.DataFrame({"customer_id": [None, "c9"], "product_id": ["A", None]})]
    )
    pd.testing.assert_frame_equal(recommend_products(lines), recommend_products(TINY))


def test_bad_input_raises_a_clear_error():
    with pytest.raises(ValueError, match="lacks required column.*product_id"):
        recommend_products(pd.DataFrame({"customer_id": ["a"]}))
    with pytest.raises(ValueError, match="order_date"):
        evaluate_recommendations(TINY, "2025-01-01")
    with pytest.raises(ValueError, match="k must be a positive integer"):
        recommend_products(TINY, k=0)
    with pytest.raises(ValueError, match="DataFrame"):
        recommend_products([("a", "b")])


def test_popular_products_counts_distinct_buyers_with_ties_by_id():
    lines = purchases({"a": "BBC", "b": "BA", "c": "CA", "d": "D"})
    popular = popular_products(lines)
    assert popular.index.tolist() == ["A", "B", "C", "D"]
    assert popular.tolist() == [2, 2, 2, 1]


def dated(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "product_id", "order_date"])


def planted_pair() -> pd.DataFrame:
    """Y is only ever bought together with X. Four customers bought X
    before the split and Y after it (e4 also the most popular product P1);
    P1, P2 and P3 are the popular products."""
    before, after = "2025-01-15", "2025-05-01"
    rows = [(f"u{i}", p, before) for i in range(8) for p in ("P1", "P2", "P3")]
    rows += [(f"t{i}", p, before) for i in range(5) for p in ("X", "Y")]
    rows += [(f"e{i}", "X", before) for i in range(1, 5)]
    rows += [(f"e{i}", "Y", after) for i in range(1, 5)]
    rows += [("e4", "P1", after)]
    # not evaluated: new after the split, or nothing new after it
    rows += [("n1", "P1", after), ("u0", "P1", after)]
    return dated(rows)


def test_evaluation_on_a_planted_pair_beats_popularity():
    metrics = dict(evaluate_recommendations(planted_pair(), "2025-03-31", k=2))
    assert list(metrics) == [
        "hit_rate_at_2",
        "popularity_hit_rate_at_2",
        "hit_rate_lift_over_popularity",
        "evaluation_customers",
        "catalogue_coverage",
    ]
    assert metrics["evaluation_customers"] == 4
    assert metrics["hit_rate_at_2"] == 1.0
    # popularity offers e1..e4 P1 and P2: only e4's P1 is a hit
    assert metrics["popularity_hit_rate_at_2"] == 0.25
    assert metrics["hit_rate_lift_over_popularity"] == 4.0
    # Y is the only product recommended to anyone, of 5 bought in training
    assert metrics["catalogue_coverage"] == pytest.approx(1 / 5)


def test_popularity_baseline_skips_products_the_customer_owns():
    # e already owns P1 and P2, so at k=1 popularity offers P3, which e buys
    lines = dated(
        [(f"u{i}", p, "2025-01-01") for i in range(5) for p in ("P1", "P2", "P3")]
        + [("u5", "P1", "2025-01-01"), ("u5", "P2", "2025-01-01")]
        + [("e", "P1", "2025-01-01"), ("e", "P2", "2025-01-01")]
        + [("e", "P3", "2025-06-01")]
    )
    metrics = dict(evaluate_recommendations(lines, pd.Timestamp("2025-03-31"), k=1))
    assert metrics["evaluation_customers"] == 1
    assert metrics["popularity_hit_rate_at_1"] == 1.0


def test_split_date_is_inclusive_and_nobody_to_evaluate_gives_no_metrics():
    # Y, bought on the split date, is training data: nothing new after it
    lines = dated([("a", "X", "2025-03-01"), ("a", "Y", "2025-03-31")])
    assert evaluate_recommendations(lines, "2025-03-31") == []
    later = dict(evaluate_recommendations(lines, "2025-03-30"))
    assert later["evaluation_customers"] == 1


def test_empty_output_keeps_text_columns_as_text_in_duckdb():
    # dbt-duckdb writes what pandas gives it: an empty object column would
    # become INTEGER and break joins on product_id downstream
    import duckdb

    empty = recommend_products(pd.DataFrame({"customer_id": [], "product_id": []}))
    types = dict(
        zip(empty.columns, duckdb.sql("select * from empty").types, strict=True)
    )
    assert str(types["product_id"]) == "VARCHAR"
    assert str(types["because_product_id"]) == "VARCHAR"


def random_lines(seed: int, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 180, n)
    return pd.DataFrame(
        {
            "customer_id": np.char.add("c", rng.integers(0, 150, n).astype(str)),
            "product_id": np.char.add("p", rng.integers(0, 30, n).astype(str)),
            "order_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(days, "D"),
        }
    )


def test_lines_counted_per_customer_and_product_recommend_the_same():
    lines = random_lines(3)[["customer_id", "product_id"]]
    counted = lines.value_counts().rename("count_lines").reset_index()
    # rows of no lines, as the warehouse's split counts have, are no purchase
    counted = pd.concat(
        [counted, pd.DataFrame({"customer_id": ["c0"], "product_id": ["p99"]})]
    ).fillna({"count_lines": 0})
    counted = counted.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(
        recommend_products(counted), recommend_products(lines)
    )
    assert "p99" not in popular_products(counted).index


def test_the_split_on_counts_from_duckdb_equals_the_split_on_lines():
    # the warehouse counts lines per customer x product in SQL
    # (int_customer_product_purchases); pandas counts them here
    import duckdb

    lines = random_lines(5)
    split = "2025-04-30"
    counts = duckdb.sql(
        f"""
        select customer_id, product_id,
            count(*) filter (where order_date <= date '{split}')
                as count_lines_before_holdout,
            count(*) filter (where order_date > date '{split}')
                as count_lines_in_holdout
        from lines group by all
        """
    ).df()
    on_lines = evaluate_recommendations(lines, split, k=5)
    assert on_lines and dict(on_lines)["evaluation_customers"] > 10
    assert evaluate_split(counts, k=5) == on_lines


def test_line_counts_must_be_whole_and_not_negative():
    for bad in (-1, 1.5):
        counted = pd.DataFrame(
            {
                "customer_id": ["a", "b"],
                "product_id": ["X", "X"],
                "count_lines": [1, bad],
            }
        )
        with pytest.raises(ValueError, match="count_lines must hold whole numbers"):
            recommend_products(counted)
