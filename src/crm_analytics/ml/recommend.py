"""Product recommendations: three candidates judged on a time split, the
best one published.

The customers x products matrix holds ``log(1 + lines)``: how often the
customer bought the product, damped so that a habit counts more than a
single purchase but not linearly more. Candidates:

``popularity``
    The products with most distinct buyers, the same list for everyone
    (the baseline every model must beat).
``item_cosine``
    Item-based collaborative filtering: two products are similar when the
    same customers buy both (the cosine of their columns, 0 to itself); a
    customer's score for a product is ``sum_i x(customer, i) *
    cosine(i, product)``.
``ease``
    EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse
    Data"): the item x item weights ``B = I - P diag(1/diag(P))``, ``P =
    (X'X + lambda I)^-1``, i.e. ``B_ij = -P_ij / P_jj`` off the diagonal
    and 0 on it; a customer's score is ``x @ B``. lambda is chosen on a
    validation split that ends where the test split starts (never on the
    test), from :data:`EASE_LAMBDAS`.

:func:`evaluate_candidates` fits each candidate on the lines up to the
holdout start and judges it on the products customers bought after it;
the published candidate is the one with the highest hit rate at k there
(ties: the simpler one, in the order above). :func:`recommend_products`
then fits the published candidate on every line up to as_of_date.

What is never recommended: a product the customer returned (any line of
it on a returned order, a credit note or a fully refunded order: the
warehouse's ``count_returned_lines``), and a product the customer already
bought, unless it is a repeat-purchase product: one with at least
:data:`REPEAT_MIN_BUYERS` buyers of whom at least :data:`REPEAT_MIN_SHARE`
bought it on two or more lines (:func:`repeat_products`). Those may be
recommended again to their buyers, and in the evaluation a re-purchase of
one in the holdout counts as a hit, for every candidate alike.

Memory. Item x item weights are dense (products^2 floats: 72 MB for 3,000
products, three such arrays while EASE is inverted), so the item models
keep the :data:`ITEM_MODEL_MAX_PRODUCTS` products with most buyers; the
rest of a larger catalogue is never recommended by them (it still counts
as bought). Customers are scored in batches of sparse rows, so memory is
bounded by ``BATCH_CELLS`` whatever the number of customers; no customers
x products matrix is ever dense for all customers at once.

Too little data: with fewer than ``min_buyers`` buyers before the holdout
or fewer than ``min_evaluation_customers`` customers to judge the
candidates on, nothing is fitted (:func:`evaluate_candidates` says why,
and the recommendations mart is empty).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

BATCH_CELLS = 1 << 23
"""Customers per scoring batch x products: the size of the dense score
block (8.4M float64 cells, 67 MB), 4,194 customers per batch for 2,000
products. Larger blocks cost memory and gain no speed."""

CANDIDATES = ("popularity", "item_cosine", "ease")
"""In order of simplicity: a tie on the selection metric goes to the first."""

EASE_LAMBDAS = (10.0, 50.0, 200.0, 500.0, 1000.0, 2500.0)
"""The L2 penalties tried for EASE on the validation split."""

ITEM_MODEL_MAX_PRODUCTS = 3000
"""Products (most buyers first) that the item models score."""

REPEAT_MIN_BUYERS = 20
REPEAT_MIN_SHARE = 0.5

MIN_BUYERS = 50
MIN_EVALUATION_CUSTOMERS = 20
MAX_JUDGED_CUSTOMERS = 100_000
"""Candidates are judged on at most this many customers, a fixed sample (the
same ones every build: those whose id hashes lowest); each is still fitted
on every customer. Judging scores every customer once per candidate and
lambda: 9 passes over 700k customers took most of the evaluation's 167 s at
1M customers. At 100k the hit rate's standard error is about 0.2 points."""

SELECTION_METRIC = "hit_rate_at_{k}"

RECOMMENDATION_COLUMNS: dict[str, str] = {
    "customer_id": "str",
    "recommendation_rank": "int64",
    "product_id": "str",
    "score": "float64",
    "because_product_id": "str",
}

EVALUATION_COLUMNS: dict[str, str] = {
    "candidate": "str",
    "metric_name": "str",
    "metric_value": "float64",
    "is_published": "bool",
    "note": "str",
}


def _check_purchases(purchases: pd.DataFrame, required: list[str]) -> None:
    if not isinstance(purchases, pd.DataFrame):
        raise ValueError("purchases must be a pandas DataFrame")
    missing = [c for c in required if c not in purchases.columns]
    if missing:
        raise ValueError(
            f"purchases lacks required column(s) {', '.join(missing)}; "
            f"needs {', '.join(required)}"
        )


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return int(k)


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Ids as strings; string columns are kept as they are (no copy)."""
    return frame.astype(
        {c: str for c in frame.columns if not pd.api.types.is_string_dtype(frame[c])}
    )


def empty_recommendations() -> pd.DataFrame:
    """An empty frame of :data:`RECOMMENDATION_COLUMNS`."""
    return pd.DataFrame(
        {c: pd.Series(dtype=t) for c, t in RECOMMENDATION_COLUMNS.items()}
    )


def purchase_matrix(
    purchases: pd.DataFrame,
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Customers x products matrix of ``log(1 + lines bought)``.

    ``purchases`` holds one row per line, or, with a ``count_lines``
    column, that many lines per row (rows of 0 lines are ignored; the
    warehouse passes one row per customer x product). Returns the CSR
    matrix (column indices sorted within each row) and its row and column
    labels, both sorted as strings. Rows without a customer_id or
    product_id are ignored.
    """
    _check_purchases(purchases, ["customer_id", "product_id"])
    pairs, lines = _pairs_and_lines(purchases)
    customer_codes, customers = pd.factorize(pairs["customer_id"], sort=True)
    product_codes, products = pd.factorize(pairs["product_id"], sort=True)
    matrix = sparse.csr_matrix(
        (lines, (customer_codes, product_codes)),
        shape=(len(customers), len(products)),
    )
    matrix.sum_duplicates()
    matrix.data = np.log1p(matrix.data)
    return (
        matrix,
        np.asarray(customers, dtype=object),
        np.asarray(products, dtype=object),
    )


def _pairs_and_lines(purchases: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The (customer_id, product_id) rows that hold lines, as strings, and
    their line counts (1 per row without ``count_lines``)."""
    columns = ["customer_id", "product_id"]
    if "count_lines" not in purchases.columns:
        pairs = _as_strings(purchases[columns].dropna())
        return pairs, np.ones(len(pairs))
    counted = purchases[[*columns, "count_lines"]].dropna()
    lines = counted["count_lines"].to_numpy(float)
    if (lines < 0).any() or not np.array_equal(lines, np.round(lines)):
        raise ValueError("count_lines must hold whole numbers of lines, >= 0")
    keep = lines > 0
    return _as_strings(counted.loc[keep, columns]), lines[keep]


def item_similarity(matrix: sparse.spmatrix) -> np.ndarray:
    """Dense products x products cosine similarity of the columns of
    ``matrix``, with 0 on the diagonal and for products nobody bought."""
    gram = (matrix.T @ matrix).toarray()
    norms = np.sqrt(np.diag(gram))
    with np.errstate(divide="ignore", invalid="ignore"):
        similarity = gram / np.outer(norms, norms)
    similarity[~np.isfinite(similarity)] = 0.0
    np.fill_diagonal(similarity, 0.0)
    return similarity


def _batches(n_rows: int, n_columns: int) -> Iterator[slice]:
    size = max(1, BATCH_CELLS // max(n_columns, 1))
    for start in range(0, n_rows, size):
        yield slice(start, min(start + size, n_rows))


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (row, column, rank) of the k best positive scores of each row.

    Ties go to the lower column, the product first in product_id order.
    ``argpartition`` picks k columns per row; in the rare rows where more
    columns than those tie with the k-th best score, every column scoring
    at least that much is a candidate. Candidates are sorted by
    (row, -score, column) and the first k of each row kept.
    """
    n_rows, n_columns = scores.shape
    k = min(k, n_columns)
    picked = np.argpartition(scores, n_columns - k, axis=1)[:, n_columns - k :]
    kth_best = np.take_along_axis(scores, picked, axis=1).min(axis=1)
    tied = np.flatnonzero((scores >= kth_best[:, None]).sum(axis=1, dtype=np.int64) > k)
    clear = np.setdiff1d(np.arange(n_rows), tied, assume_unique=True)
    tied_scores = scores[tied]
    tied_rows, tied_columns = np.nonzero(
        (tied_scores >= kth_best[tied, None]) & (tied_scores > 0)
    )
    rows = np.concatenate([np.repeat(clear, k), tied[tied_rows]])
    columns = np.concatenate([picked[clear].ravel(), tied_columns])
    values = scores[rows, columns]
    positive = values > 0
    rows, columns, values = rows[positive], columns[positive], values[positive]
    order = np.lexsort((columns, -values, rows))
    rows, columns = rows[order], columns[order]
    first_of_row = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    rank = np.arange(rows.size) - np.repeat(
        first_of_row, np.diff(np.r_[first_of_row, rows.size])
    )
    keep = rank < k
    return rows[keep], columns[keep], rank[keep] + 1


def _because(
    bought: sparse.csr_matrix,
    similarity: np.ndarray,
    rows: np.ndarray,
    columns: np.ndarray,
) -> np.ndarray:
    """For each (customer row, recommended column) the bought column with
    the largest term weight x similarity; ties go to the lower column."""
    counts = np.diff(bought.indptr)[rows]
    pair = np.repeat(np.arange(rows.size), counts)
    first = np.cumsum(counts) - counts
    position = np.repeat(bought.indptr[rows], counts) + (
        np.arange(pair.size) - np.repeat(first, counts)
    )
    items = bought.indices[position]
    terms = bought.data[position] * similarity[items, columns[pair]]
    best = np.maximum.reduceat(terms, first)
    # column indices are sorted within a row, so the first maximum is the
    # lowest product_id
    is_best = np.flatnonzero(terms == best[pair])
    _, first_best = np.unique(pair[is_best], return_index=True)
    return items[is_best[first_best]]


def popular_products(purchases: pd.DataFrame) -> pd.Series:
    """Number of distinct buyers per product_id, most bought first (ties
    by product_id). Rows of 0 ``count_lines``, when given, are no purchase."""
    _check_purchases(purchases, ["customer_id", "product_id"])
    pairs, _ = _pairs_and_lines(purchases)
    buyers = pairs.drop_duplicates().groupby("product_id").size()
    order = np.lexsort((buyers.index.to_numpy(), -buyers.to_numpy()))
    return buyers.iloc[order].rename("count_buyers")


def ease_weights(matrix: sparse.spmatrix, ease_lambda: float) -> np.ndarray:
    """EASE item x item weights of ``matrix``: ``B = I - P diag(1/diag(P))``
    with ``P = (X'X + lambda I)^-1``; 0 on the diagonal."""
    if not ease_lambda > 0:
        raise ValueError(f"ease_lambda must be positive, got {ease_lambda!r}")
    gram = (matrix.T @ matrix).toarray()
    gram[np.diag_indices_from(gram)] += ease_lambda
    inverse = np.linalg.inv(gram)
    weights = -inverse / np.diag(inverse)
    np.fill_diagonal(weights, 0.0)
    return weights


def _ease_path(
    matrix: sparse.spmatrix, lambdas: tuple[float, ...]
) -> Iterator[tuple[float, np.ndarray]]:
    """EASE weights for each lambda from one eigendecomposition of X'X:
    ``(X'X + lambda I)^-1 = V diag(1 / (e + lambda)) V'``."""
    gram = (matrix.T @ matrix).toarray()
    values, vectors = np.linalg.eigh(gram)
    for ease_lambda in lambdas:
        inverse = (vectors / (values + ease_lambda)) @ vectors.T
        weights = -inverse / np.diag(inverse)
        np.fill_diagonal(weights, 0.0)
        yield ease_lambda, weights


def repeat_products(
    matrix: sparse.csr_matrix,
    min_buyers: int = REPEAT_MIN_BUYERS,
    min_share: float = REPEAT_MIN_SHARE,
) -> np.ndarray:
    """Per column of the ``log(1 + lines)`` matrix: is it a repeat-purchase
    product (at least ``min_buyers`` buyers, of whom at least ``min_share``
    bought it on two or more lines)?"""
    csc = matrix.tocsc()
    buyers = np.diff(csc.indptr)
    column_of_cell = np.repeat(np.arange(buyers.size), buyers)
    repeated = np.round(np.expm1(csc.data)) >= 2
    repeaters = np.bincount(column_of_cell, weights=repeated, minlength=buyers.size)
    share = repeaters / np.maximum(buyers, 1)
    return (buyers >= min_buyers) & (share >= min_share)


@dataclass
class _Model:
    """A fitted candidate: the product columns it scores and, for the item
    models, their item x item weights (for popularity, buyers per column)."""

    candidate: str
    columns: np.ndarray
    weights: np.ndarray


def _fit(
    candidate: str,
    matrix: sparse.csr_matrix,
    ease_lambda: float | None,
    max_products: int,
) -> _Model:
    buyers = np.diff(matrix.tocsc().indptr)
    if candidate == "popularity":
        columns = np.flatnonzero(buyers > 0)
        return _Model(candidate, columns, buyers[columns].astype(float))
    columns, sub = _restricted(matrix, max_products)
    if candidate == "item_cosine":
        return _Model(candidate, columns, item_similarity(sub))
    if candidate == "ease":
        if ease_lambda is None:
            raise ValueError("the ease candidate needs ease_lambda")
        return _Model(candidate, columns, ease_weights(sub, ease_lambda))
    raise ValueError(f"unknown candidate {candidate!r}; one of {CANDIDATES}")


def _blocked(
    matrix: sparse.csr_matrix, returned: sparse.csr_matrix, repeat: np.ndarray
) -> sparse.csr_matrix:
    """Customer x product cells that must not be recommended: bought (unless
    a repeat-purchase product) or returned."""
    bought = matrix.astype(bool) @ sparse.diags((~repeat).astype(float))
    return ((bought + returned.astype(float)) > 0).tocsr()


def _recommend_rows(
    model: _Model,
    matrix: sparse.csr_matrix,
    blocked: sparse.csr_matrix,
    k: int,
) -> Iterator[tuple[slice, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per batch of customers: (batch, rows, product columns, ranks, scores,
    because columns or -1)."""
    n_columns = model.columns.size
    if n_columns == 0:
        return
    for batch in _batches(matrix.shape[0], n_columns):
        bought = matrix[batch][:, model.columns]
        bought.sort_indices()
        if model.candidate == "popularity":
            scores = np.tile(model.weights, (bought.shape[0], 1))
        else:
            scores = np.asarray(bought @ model.weights)
        scores[blocked[batch][:, model.columns].nonzero()] = -np.inf
        rows, columns, rank = _top_k(scores, k)
        if rows.size == 0:
            continue
        if model.candidate == "popularity":
            because = np.full(rows.size, -1)
        else:
            because = model.columns[_because(bought, model.weights, rows, columns)]
        yield batch, rows, model.columns[columns], rank, scores[rows, columns], because


def _returned_matrix(
    purchases: pd.DataFrame,
    column: str | None,
    customers: np.ndarray,
    products: np.ndarray,
) -> sparse.csr_matrix:
    """Customers x products (the labels of the purchase matrix): 1 where the
    customer returned the product (``column`` > 0)."""
    shape = (len(customers), len(products))
    if column is None or column not in purchases.columns:
        return sparse.csr_matrix(shape, dtype=bool)
    rows = purchases.loc[purchases[column].fillna(0).to_numpy() > 0]
    rows = _as_strings(rows[["customer_id", "product_id"]].dropna())
    r = pd.Index(customers).get_indexer(rows["customer_id"])
    c = pd.Index(products).get_indexer(rows["product_id"])
    keep = (r >= 0) & (c >= 0)
    return sparse.csr_matrix(
        (np.ones(keep.sum(), dtype=bool), (r[keep], c[keep])), shape=shape
    )


def recommend_products(
    purchases: pd.DataFrame,
    k: int = 10,
    candidate: str = "item_cosine",
    ease_lambda: float | None = None,
    max_products: int = ITEM_MODEL_MAX_PRODUCTS,
) -> pd.DataFrame:
    """Top ``k`` products per customer from ``candidate`` (one of
    :data:`CANDIDATES`), never one the customer returned or already bought
    (unless a repeat-purchase product, see :func:`repeat_products`).

    ``purchases`` has customer_id and product_id, one row per purchased
    line (duplicates allowed; more lines weigh more, as log(1 + lines)),
    or a ``count_lines`` column of lines per row (see
    :func:`purchase_matrix`), and optionally ``count_returned_lines``
    (returned lines per row; > 0 blocks the product for the customer).
    Returns :data:`RECOMMENDATION_COLUMNS`, one row per customer x rank,
    sorted by customer_id and rank. Only products with a positive score are
    recommended, so a customer may get fewer than ``k`` (or none). Equal
    scores are ranked by product_id. ``because_product_id`` is the bought
    product with the largest term of the score (null for popularity).
    """
    _check_purchases(purchases, ["customer_id", "product_id"])
    k = _check_k(k)
    if candidate not in CANDIDATES:
        raise ValueError(f"unknown candidate {candidate!r}; one of {CANDIDATES}")
    matrix, customers, products = purchase_matrix(purchases)
    if matrix.nnz == 0:
        return empty_recommendations()
    returned = _returned_matrix(purchases, "count_returned_lines", customers, products)
    blocked = _blocked(matrix, returned, repeat_products(matrix))
    model = _fit(candidate, matrix, ease_lambda, max_products)
    frames = []
    for batch, rows, columns, rank, scores, because in _recommend_rows(
        model, matrix, blocked, k
    ):
        # object columns of the shared label strings: no copy per cell
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": pd.Series(customers[batch][rows], dtype=object),
                    "recommendation_rank": rank,
                    "product_id": pd.Series(products[columns], dtype=object),
                    "score": scores,
                    "because_product_id": pd.Series(
                        np.where(because >= 0, products[because], None), dtype=object
                    ),
                }
            )
        )
    if not frames:
        return empty_recommendations()
    return pd.concat(frames, ignore_index=True).astype(RECOMMENDATION_COLUMNS)


@dataclass
class _Split:
    """One time split: the training matrix, what is blocked per customer,
    and the eligible products each evaluation customer bought after it."""

    matrix: sparse.csr_matrix
    blocked: sparse.csr_matrix
    truth: sparse.csr_matrix
    n_buyers: int
    n_evaluated: int
    #: the rows (customers) the candidates are judged on
    judged: np.ndarray


def _split(
    counts: pd.DataFrame, train: np.ndarray, returned: np.ndarray, after: np.ndarray
) -> _Split:
    """``train``, ``returned`` and ``after``: lines per row of ``counts``
    (customer x product) before the split, returned before it, and after it."""
    pairs = _as_strings(counts[["customer_id", "product_id"]])
    frame = pairs.assign(count_lines=train, count_returned_lines=returned)
    matrix, customers, products = purchase_matrix(frame)
    returned_m = _returned_matrix(frame, "count_returned_lines", customers, products)
    blocked = _blocked(matrix, returned_m, repeat_products(matrix))
    customer_index = pd.Index(customers)
    product_index = pd.Index(products)
    target = pairs.loc[after > 0]
    r = customer_index.get_indexer(target["customer_id"])
    c = product_index.get_indexer(target["product_id"])
    known_customer = r >= 0
    known_product = c >= 0
    # a product nobody bought before the split is eligible (and unreachable)
    eligible = known_customer & ~known_product
    both = known_customer & known_product
    if both.any():
        is_blocked = np.asarray(blocked[r[both], c[both]]).ravel().astype(bool)
        eligible[both] = ~is_blocked
    judged = _judged_rows(customer_index)
    in_sample = np.zeros(len(customers), dtype=bool)
    in_sample[judged] = True
    eligible[known_customer] &= in_sample[r[known_customer]]
    n_evaluated = np.unique(r[eligible]).size
    keep = eligible & known_product
    truth = sparse.csr_matrix(
        (np.ones(keep.sum(), dtype=bool), (r[keep], c[keep])), shape=matrix.shape
    )
    return _Split(matrix, blocked, truth, len(customers), n_evaluated, judged)


def _judged_rows(customers: pd.Index) -> np.ndarray:
    """The rows of the customers the candidates are judged on: all of them,
    or the MAX_JUDGED_CUSTOMERS whose ids hash lowest."""
    if len(customers) <= MAX_JUDGED_CUSTOMERS:
        return np.arange(len(customers))
    hashes = pd.util.hash_pandas_object(pd.Series(customers), index=False).to_numpy()
    return np.sort(np.argpartition(hashes, MAX_JUDGED_CUSTOMERS)[:MAX_JUDGED_CUSTOMERS])


def _judge(model: _Model, split: _Split, k: int) -> dict[str, float]:
    """hit rate, precision and catalogue coverage of ``model`` at ``k``."""
    hit_customers = 0
    hits = 0
    recommended = np.zeros(split.matrix.shape[1], dtype=bool)
    matrix = split.matrix[split.judged]
    truth = split.truth[split.judged]
    for batch, rows, columns, _, _, _ in _recommend_rows(
        model, matrix, split.blocked[split.judged], k
    ):
        is_hit = np.asarray(truth[batch][rows, columns]).ravel().astype(bool)
        hits += int(is_hit.sum())
        hit_customers += np.unique(rows[is_hit]).size
        recommended[columns] = True
    bought = np.diff(matrix.tocsc().indptr) > 0
    n = split.n_evaluated
    return {
        f"hit_rate_at_{k}": hit_customers / n,
        f"precision_at_{k}": hits / (k * n),
        "catalogue_coverage": recommended.sum() / max(bought.sum(), 1),
    }


def _evaluation_frame(rows: list[tuple[str, str, float, bool, str | None]]):
    return pd.DataFrame(rows, columns=list(EVALUATION_COLUMNS)).astype(
        {c: t for c, t in EVALUATION_COLUMNS.items() if c != "note"}
    )


def not_fitted(reason: str) -> pd.DataFrame:
    """The evaluation frame of a model that could not be fitted: one row,
    candidate ``none``, metric ``fitted`` = 0, the reason as note."""
    return _evaluation_frame([("none", "fitted", 0.0, True, reason)])


def _lines(counts: pd.DataFrame, column: str) -> np.ndarray:
    if column not in counts.columns:
        return np.zeros(len(counts))
    return counts[column].fillna(0).to_numpy(float)


def evaluate_candidates(
    counts: pd.DataFrame,
    k: int = 10,
    lambdas: tuple[float, ...] = EASE_LAMBDAS,
    max_products: int = ITEM_MODEL_MAX_PRODUCTS,
    min_buyers: int = MIN_BUYERS,
    min_evaluation_customers: int = MIN_EVALUATION_CUSTOMERS,
) -> pd.DataFrame:
    """Every candidate judged on the time split; the best one published.

    ``counts`` has one row per customer x product: customer_id, product_id,
    count_lines_before_holdout and count_lines_in_holdout (lines bought
    before / after the test split), count_lines_before_validation (before
    the validation split, which ends where the test split starts) and,
    optionally, count_returned_lines_before_validation and
    count_returned_lines_before_holdout.

    Test split: each candidate is fitted on the lines before the holdout
    and judged on the evaluation customers: those who bought before it
    and, after it, a product they may be recommended (not bought before
    unless repeat-purchase, not returned); a hit is one of those products
    among their k recommendations. Validation split: the same, fitted
    before the validation start and judged on the purchases between it and
    the holdout start; it chooses EASE's lambda (highest hit rate, ties to
    the larger lambda).

    Returns :data:`EVALUATION_COLUMNS` rows: per candidate hit_rate_at_k,
    precision_at_k, catalogue_coverage, hit_rate_lift_over_popularity and
    evaluation_customers; EASE's ease_lambda and validation_hit_rate_at_k;
    ``fitted`` = 1 for the published candidate (the highest test hit rate;
    ties to the simpler), whose rows carry is_published. When the data are
    too thin, only :func:`not_fitted`'s row.
    """
    required = [
        "customer_id",
        "product_id",
        "count_lines_before_validation",
        "count_lines_before_holdout",
        "count_lines_in_holdout",
    ]
    _check_purchases(counts, required)
    k = _check_k(k)
    counts = counts.dropna(subset=["customer_id", "product_id"])
    before = _lines(counts, "count_lines_before_holdout")
    before_validation = _lines(counts, "count_lines_before_validation")
    test = _split(
        counts,
        before,
        _lines(counts, "count_returned_lines_before_holdout"),
        _lines(counts, "count_lines_in_holdout"),
    )
    if test.n_buyers < min_buyers:
        return not_fitted(
            f"{test.n_buyers} buyers before the holdout start; "
            f"at least {min_buyers} needed"
        )
    if test.n_evaluated < min_evaluation_customers:
        return not_fitted(
            f"{test.n_evaluated} customers bought a product new to them after "
            f"the holdout start; at least {min_evaluation_customers} needed"
        )
    validation = _split(
        counts,
        before_validation,
        _lines(counts, "count_returned_lines_before_validation"),
        before - before_validation,
    )
    hit = f"hit_rate_at_{k}"
    if validation.n_evaluated >= min_evaluation_customers:
        tried = []
        columns, sub = _restricted(validation.matrix, max_products)
        for ease_lambda, weights in _ease_path(sub, lambdas):
            model = _Model("ease", columns, weights)
            tried.append((_judge(model, validation, k)[hit], ease_lambda))
        validation_hit, ease_lambda = max(tried)
        lambda_note = (
            f"chosen by {hit} on the validation split before the holdout "
            f"(tried {', '.join(f'{x:g}' for x in lambdas)})"
        )
    else:
        validation_hit, ease_lambda = float("nan"), float(np.median(lambdas))
        lambda_note = (
            f"validation split too thin ({validation.n_evaluated} customers): "
            "the middle of the grid"
        )
    results = {
        candidate: _judge(
            _fit(candidate, test.matrix, ease_lambda, max_products), test, k
        )
        for candidate in CANDIDATES
    }
    popularity_hit = results["popularity"][hit]
    winner = max(CANDIDATES, key=lambda c: (results[c][hit], -CANDIDATES.index(c)))
    rows = []
    for candidate in CANDIDATES:
        published = candidate == winner
        measured = results[candidate]
        lift = measured[hit] / popularity_hit if popularity_hit > 0 else float("nan")
        metrics = [
            *measured.items(),
            ("hit_rate_lift_over_popularity", lift),
            ("evaluation_customers", float(test.n_evaluated)),
        ]
        rows += [(candidate, m, float(v), published, None) for m, v in metrics]
        if candidate == "ease":
            rows.append((candidate, "ease_lambda", ease_lambda, published, lambda_note))
            rows.append(
                (candidate, f"validation_{hit}", validation_hit, published, None)
            )
        if published:
            rows.append(
                (
                    candidate,
                    "fitted",
                    1.0,
                    True,
                    f"published: the highest {hit} on the test split "
                    f"({measured[hit]:.4f}; popularity {popularity_hit:.4f})",
                )
            )
    return _evaluation_frame(rows)


def _restricted(
    matrix: sparse.csr_matrix, max_products: int
) -> tuple[np.ndarray, sparse.csr_matrix]:
    """The (at most) ``max_products`` columns with most buyers, in column
    order, and the matrix restricted to them (as :func:`_fit` does)."""
    buyers = np.diff(matrix.tocsc().indptr)
    order = np.lexsort((np.arange(buyers.size), -buyers))
    columns = np.sort(order[: min(max_products, int((buyers > 0).sum()))])
    return columns, matrix[:, columns]


def published_candidate(
    evaluation: pd.DataFrame,
) -> tuple[str | None, float | None, str]:
    """From :func:`evaluate_candidates`' frame: the published candidate (None
    when not fitted), EASE's lambda, and the note of the ``fitted`` row."""
    fitted = evaluation.loc[
        (evaluation["metric_name"] == "fitted") & evaluation["is_published"]
    ]
    if len(fitted) != 1:
        return None, None, "no evaluation row says whether the model was fitted"
    row = fitted.iloc[0]
    lam = evaluation.loc[evaluation["metric_name"] == "ease_lambda", "metric_value"]
    ease_lambda = float(lam.iloc[0]) if len(lam) else None
    if row["metric_value"] != 1:
        return None, ease_lambda, str(row["note"])
    return str(row["candidate"]), ease_lambda, str(row["note"])
