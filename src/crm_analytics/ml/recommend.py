"""Product recommendations: item-based collaborative filtering.

Customers x products is a sparse binary matrix (bought or not). Two products
are similar when the same customers buy both: cosine similarity of their
columns, ``co_buyers(i, j) / sqrt(buyers(i) * buyers(j))``, with a product's
similarity to itself set to 0. A customer's score for a product is the sum
of its similarities to the products they bought; the top k products they
have not bought are recommended, each explained by the purchased product
that contributes most to its score. Customers are scored in batches, so
memory stays bounded by batch x products whatever the number of customers.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from scipy import sparse

BATCH_CELLS = 20_000_000
"""Customers per batch x products: bounds the dense score matrix."""

RECOMMENDATION_COLUMNS: dict[str, str] = {
    "customer_id": "object",
    "recommendation_rank": "int64",
    "product_id": "object",
    "score": "float64",
    "because_product_id": "object",
}


def _check_columns(frame: pd.DataFrame, required: list[str]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"purchases frame lacks columns: {', '.join(missing)}")


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=list(RECOMMENDATION_COLUMNS)).astype(
        RECOMMENDATION_COLUMNS
    )


def purchase_matrix(
    purchases: pd.DataFrame,
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Binary customers x products matrix with its sorted row and column
    labels."""
    pairs = purchases[["customer_id", "product_id"]].dropna().astype(str)
    customer_codes, customers = pd.factorize(pairs["customer_id"], sort=True)
    product_codes, products = pd.factorize(pairs["product_id"], sort=True)
    matrix = sparse.csr_matrix(
        (np.ones(len(pairs), dtype=np.float32), (customer_codes, product_codes)),
        shape=(len(customers), len(products)),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix, np.asarray(customers), np.asarray(products)


def item_similarity(matrix: sparse.csr_matrix) -> np.ndarray:
    """Dense products x products cosine similarity, diagonal 0."""
    co_buyers = (matrix.T @ matrix).toarray().astype(np.float64)
    buyers = np.sqrt(np.diag(co_buyers))
    with np.errstate(divide="ignore", invalid="ignore"):
        similarity = co_buyers / np.outer(buyers, buyers)
    similarity = np.nan_to_num(similarity)
    np.fill_diagonal(similarity, 0.0)
    return similarity


def _batches(n_rows: int, n_columns: int) -> Iterator[slice]:
    size = max(100, BATCH_CELLS // max(n_columns, 1))
    for start in range(0, n_rows, size):
        yield slice(start, min(start + size, n_rows))


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the k highest scores per row, best first; ties go
    to the lower column (the alphabetically first product)."""
    k = min(k, scores.shape[1])
    if k == 0:
        return np.empty((scores.shape[0], 0), dtype=np.int64)
    # stable sort on -score keeps column order among equal scores
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def recommend_products(purchases: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """Top ``k`` products per customer that they have not bought.

    ``purchases`` has customer_id and product_id, one row per purchased
    line (duplicates allowed). Only products with a positive score are
    recommended, so a customer may get fewer than k. Returns
    :data:`RECOMMENDATION_COLUMNS`.
    """
    _check_columns(purchases, ["customer_id", "product_id"])
    if k < 1:
        raise ValueError("k must be at least 1")
    if purchases.empty:
        return _empty()
    matrix, customers, products = purchase_matrix(purchases)
    similarity = item_similarity(matrix)
    frames = []
    for rows in _batches(*matrix.shape):
        bought = matrix[rows].toarray() > 0
        scores = bought @ similarity
        scores[bought] = -np.inf
        top = _top_k(scores, k)
        top_scores = np.take_along_axis(scores, top, axis=1)
        # the bought product most similar to each recommendation explains it
        because = np.column_stack(
            [
                np.where(bought, similarity[top[:, rank]], -np.inf).argmax(axis=1)
                for rank in range(top.shape[1])
            ]
        )
        keep = top_scores > 0
        row_index = np.nonzero(keep)[0]
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": customers[rows][row_index],
                    "recommendation_rank": np.nonzero(keep)[1] + 1,
                    "product_id": products[top[keep]],
                    "score": top_scores[keep],
                    "because_product_id": products[because[keep]],
                }
            )
        )
    if not frames:
        return _empty()
    return pd.concat(frames, ignore_index=True).astype(RECOMMENDATION_COLUMNS)


def popular_products(purchases: pd.DataFrame) -> pd.Series:
    """Products by number of distinct buyers, most bought first (ties by
    product_id)."""
    buyers = purchases.drop_duplicates(["customer_id", "product_id"])
    counts = buyers.groupby("product_id").size().rename("buyers").reset_index()
    counts = counts.sort_values(["buyers", "product_id"], ascending=[False, True])
    return counts.set_index("product_id")["buyers"]


def evaluate_recommendations(
    purchases: pd.DataFrame, split_date: object, k: int = 10
) -> list[tuple[str, float]]:
    """Hit rate at k on a time split, beside a popularity baseline.

    Trains on purchases up to ``split_date``; evaluates customers who bought
    before it and bought, after it, at least one product new to them. A hit
    is a customer with at least one of those new products among their k
    recommendations. The baseline recommends the k most bought products
    they have not bought. Returns metric tuples; empty when nobody can be
    evaluated.
    """
    _check_columns(purchases, ["customer_id", "product_id", "order_date"])
    dates = pd.to_datetime(purchases["order_date"])
    split = pd.Timestamp(split_date)
    train = purchases.loc[dates <= split, ["customer_id", "product_id"]]
    after = purchases.loc[dates > split, ["customer_id", "product_id"]]
    after = after.drop_duplicates().merge(
        train.drop_duplicates(), how="left", indicator=True
    )
    new = after.loc[
        (after["_merge"] == "left_only")
        & after["customer_id"].isin(train["customer_id"]),
        ["customer_id", "product_id"],
    ]
    if new.empty or train.empty:
        return []
    recommended = recommend_products(train, k)
    evaluated = new["customer_id"].unique()
    hits = recommended.merge(new, on=["customer_id", "product_id"])
    hit_rate = hits["customer_id"].nunique() / len(evaluated)

    popular = popular_products(train).index.to_numpy()
    bought = train.drop_duplicates().groupby("customer_id")["product_id"].agg(set)
    new_sets = new.groupby("customer_id")["product_id"].agg(set)
    popularity_hits = 0
    for customer in evaluated:
        owned = bought.get(customer, set())
        top = [p for p in popular[: k + len(owned)] if p not in owned][:k]
        popularity_hits += bool(new_sets[customer].intersection(top))
    popularity_rate = popularity_hits / len(evaluated)
    n_products = train["product_id"].nunique()
    return [
        ("evaluation_customers", float(len(evaluated))),
        (f"hit_rate_at_{k}", hit_rate),
        (f"popularity_hit_rate_at_{k}", popularity_rate),
        (
            "hit_rate_lift_over_popularity",
            hit_rate / popularity_rate if popularity_rate > 0 else float("nan"),
        ),
        ("catalogue_coverage", recommended["product_id"].nunique() / n_products),
    ]
