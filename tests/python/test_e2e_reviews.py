"""Order reviews end to end: the review marts against pandas.

The generated data set (1,500 customers, seed 7, built once for the session
by the ``demo_warehouse`` fixture) holds ``order_reviews.csv`` with planted
defects. Here the review rules are applied again in pandas to the raw CSV:
parsing, the row checks, the order and product checks and the duplicates;
then every number of the four review marts is recomputed from the reviews
that survive. Only what the review models take from other models comes from
the warehouse: which orders are kept and their customers (fct_orders,
int_orders_validated), the kept lines (fct_order_items), the catalogue
(dim_products) and as_of_date. The planted signal (satisfied persons score
higher) is checked on the customer mart. A build without the reviews file
comes out with empty review marts.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from helpers import Warehouse, build

from crm_analytics.generate.formats import TIMESTAMP_STYLES

pytestmark = pytest.mark.e2e

CANONICAL = "%Y-%m-%d %H:%M:%S"


def _parse_times(text: pd.Series) -> pd.Series:
    """The timestamp spellings the generator writes, each with its format."""
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[s]")
    for style in (CANONICAL, *TIMESTAMP_STYLES):
        missing = parsed.isna()
        parsed[missing] = pd.to_datetime(
            text[missing], format=style, errors="coerce"
        ).dt.tz_localize(None)
    return parsed


def _expected_triage(warehouse: Warehouse) -> pd.DataFrame:
    """Each raw review row with the fate the rules give it, in pandas."""
    raw = pd.read_csv(
        warehouse.data_dir / "raw" / "order_reviews.csv",
        dtype=str,
        keep_default_na=False,
    ).apply(lambda c: c.str.strip())
    raw["row_number"] = np.arange(1, len(raw) + 1)
    orders_in_file = set(
        pd.read_csv(
            warehouse.data_dir / "raw" / "orders.csv", dtype=str, keep_default_na=False
        )["order_id"].str.strip()
    ) - {""}
    kept_orders = set(
        warehouse.query(
            "select order_id from intermediate.int_orders_validated "
            "where row_status = 'kept'"
        )["order_id"]
    )
    products = set(
        warehouse.query("select product_id from marts.dim_products")["product_id"]
    )
    raw["reviewed_at_parsed"] = _parse_times(raw["reviewed_at"])
    score_ok = raw["score"].map(lambda s: re.fullmatch(r"[1-5](\.0*)?", s) is not None)
    raw["review_score"] = np.where(score_ok, raw["score"].str[:1], "0").astype(int)
    missing = (raw[["review_id", "order_id", "score", "reviewed_at"]] == "").any(axis=1)
    has_product = raw["product_id"] != ""
    reason = np.select(
        [
            missing,
            raw["reviewed_at_parsed"].isna(),
            ~score_ok,
            ~raw["order_id"].isin(orders_in_file),
            has_product & ~raw["product_id"].isin(products),
            ~raw["order_id"].isin(kept_orders),
        ],
        [
            "missing_required_field",
            "invalid_timestamp",
            "score_out_of_range",
            "unknown_order",
            "unknown_product",
            "parent_quarantined",
        ],
        default="",
    )
    raw["dq_reason"] = reason
    valid = raw[raw["dq_reason"] == ""].sort_values(
        ["reviewed_at_parsed", "row_number"], ascending=False
    )
    first = ~valid.duplicated("review_id")
    raw["row_status"] = "quarantined"
    raw.loc[raw["dq_reason"] == "", "row_status"] = "merged"
    raw.loc[valid.index[first], "row_status"] = "kept"
    raw.loc[raw["row_status"] == "merged", "dq_reason"] = "duplicate"
    return raw


@pytest.fixture(scope="module")
def triage(demo_warehouse: Warehouse) -> pd.DataFrame:
    return _expected_triage(demo_warehouse)


@pytest.fixture(scope="module")
def expected_reviews(demo_warehouse: Warehouse, triage: pd.DataFrame) -> pd.DataFrame:
    """fct_order_reviews recomputed: kept reviews up to as_of_date with the
    customer of their order."""
    as_of = demo_warehouse.query("select as_of_date from intermediate.int_as_of_date")
    as_of_date = pd.Timestamp(as_of["as_of_date"].iloc[0])
    orders = demo_warehouse.query("select order_id, customer_id from marts.fct_orders")
    kept = triage[triage["row_status"] == "kept"].copy()
    kept["reviewed_date"] = kept["reviewed_at_parsed"].dt.normalize()
    kept = kept[kept["reviewed_date"] <= as_of_date]
    kept = kept.merge(orders, on="order_id", how="inner")
    kept["product_id"] = kept["product_id"].replace("", None)
    kept["is_positive"] = kept["review_score"] >= 4
    kept["is_negative"] = kept["review_score"] <= 2
    return kept


def test_every_review_row_gets_the_fate_the_rules_give(demo_warehouse, triage):
    fates = demo_warehouse.query(
        "select source_row_number as row_number, row_status, dq_reason "
        "from intermediate.int_order_reviews_validated"
    )
    both = triage.merge(fates, on="row_number", suffixes=("_expected", ""))
    assert len(both) == len(triage) == len(fates)
    wrong = both[
        (both["row_status"] != both["row_status_expected"])
        | (both["dq_reason"].fillna("") != both["dq_reason_expected"])
    ]
    assert wrong.empty, wrong.head(10).to_string()
    # Every planted kind of bad review is there to be caught.
    reasons = set(triage["dq_reason"])
    assert {
        "missing_required_field", "invalid_timestamp", "score_out_of_range",
        "unknown_order", "unknown_product", "duplicate",
    } <= reasons  # fmt: skip
    reconciliation = demo_warehouse.query(
        "select * from marts.dq_row_reconciliation where source_table = 'order_reviews'"
    ).iloc[0]
    counts = triage["row_status"].value_counts()
    assert reconciliation["count_rows_in"] == len(triage)
    assert reconciliation["count_kept"] == counts["kept"]
    assert reconciliation["count_merged"] == counts["merged"]
    assert reconciliation["count_quarantined"] == counts["quarantined"]


def test_fct_order_reviews_matches_pandas(demo_warehouse, expected_reviews):
    mart = demo_warehouse.query("select * from marts.fct_order_reviews")
    assert len(mart) > 1000
    both = expected_reviews.merge(
        mart, on="review_id", how="outer", suffixes=("_expected", ""), indicator=True
    )
    assert (both["_merge"] == "both").all(), both["_merge"].value_counts()
    for column in ("order_id", "customer_id", "product_id", "review_score"):
        expected = (
            both[f"{column}_expected"]
            .astype(str)
            .where(both[f"{column}_expected"].notna(), "<null>")
        )
        actual = both[column].astype(str).where(both[column].notna(), "<null>")
        assert (expected == actual).all(), column
    assert (both["is_positive_expected"] == both["is_positive"]).all()
    assert (both["is_negative_expected"] == both["is_negative"]).all()
    assert (both["reviewed_at_parsed"] == pd.to_datetime(both["reviewed_at"])).all()
    assert (both["is_product_review"] == both["product_id"].notna()).all()


def test_fct_reviews_monthly_matches_pandas(demo_warehouse, expected_reviews):
    reviews = expected_reviews.assign(
        review_month=expected_reviews["reviewed_date"].dt.to_period("M").dt.start_time
    )
    grouped = reviews.groupby("review_month")
    expected = pd.DataFrame(
        {
            "count_reviews": grouped.size(),
            "count_positive_reviews": grouped["is_positive"].sum(),
            "count_negative_reviews": grouped["is_negative"].sum(),
            "sum_review_score": grouped["review_score"].sum(),
        }
    )
    expected["count_neutral_reviews"] = (
        expected["count_reviews"]
        - expected["count_positive_reviews"]
        - expected["count_negative_reviews"]
    )
    mart = demo_warehouse.query("select * from marts.fct_reviews_monthly")
    mart = mart.set_index(pd.to_datetime(mart["review_month"])).sort_index()
    assert list(mart.index) == list(expected.index)
    for column in expected.columns:
        assert (mart[column].to_numpy() == expected[column].to_numpy()).all(), column
    n = expected["count_reviews"]
    np.testing.assert_allclose(
        mart["avg_review_score"], expected["sum_review_score"] / n, atol=0.005
    )
    np.testing.assert_allclose(
        mart["pct_positive_reviews"],
        expected["count_positive_reviews"] / n,
        atol=0.00005,
    )
    np.testing.assert_allclose(
        mart["pct_negative_reviews"],
        expected["count_negative_reviews"] / n,
        atol=0.00005,
    )


def test_fct_product_review_scores_matches_pandas(demo_warehouse, expected_reviews):
    items = demo_warehouse.query(
        "select distinct order_id, product_id from marts.fct_order_items"
    )
    product_reviews = expected_reviews[expected_reviews["product_id"].notna()]
    order_reviews = expected_reviews[expected_reviews["product_id"].isna()]
    counted = pd.concat(
        [
            product_reviews.assign(is_product_review=True),
            order_reviews.drop(columns="product_id")
            .merge(items, on="order_id")
            .assign(is_product_review=False),
        ]
    )
    grouped = counted.groupby("product_id")
    expected = pd.DataFrame(
        {
            "count_reviews": grouped.size(),
            "count_product_reviews": grouped["is_product_review"].sum(),
            "count_positive_reviews": grouped["is_positive"].sum(),
            "count_negative_reviews": grouped["is_negative"].sum(),
            "sum_review_score": grouped["review_score"].sum(),
        }
    )
    expected["count_order_reviews"] = (
        expected["count_reviews"] - expected["count_product_reviews"]
    )
    mart = demo_warehouse.query(
        "select * from marts.fct_product_review_scores"
    ).set_index("product_id")
    assert set(mart.index) == set(expected.index)
    mart = mart.loc[expected.index]
    for column in expected.columns:
        assert (mart[column].to_numpy() == expected[column].to_numpy()).all(), column
    np.testing.assert_allclose(
        mart["avg_review_score"],
        expected["sum_review_score"] / expected["count_reviews"],
        atol=0.005,
    )
    categories = demo_warehouse.query(
        "select product_id, category from marts.dim_products"
    ).set_index("product_id")["category"]
    assert (mart["category"] == categories.reindex(mart.index)).all()


def test_dim_customer_satisfaction_review_columns_match_pandas(
    demo_warehouse, expected_reviews
):
    mart = demo_warehouse.query(
        "select customer_id, count_reviews, count_positive_reviews, "
        "count_negative_reviews, latest_review_score, avg_review_score, "
        "pct_positive_reviews, pct_negative_reviews, latest_review_date "
        "from marts.dim_customer_satisfaction"
    ).set_index("customer_id")
    ordered = expected_reviews.sort_values(["reviewed_at_parsed", "review_id"])
    grouped = ordered.groupby("customer_id")
    expected = pd.DataFrame(
        {
            "count_reviews": grouped.size(),
            "count_positive_reviews": grouped["is_positive"].sum(),
            "count_negative_reviews": grouped["is_negative"].sum(),
            "latest_review_score": grouped["review_score"].last(),
            "mean": grouped["review_score"].mean(),
            "latest_review_date": grouped["reviewed_date"].max(),
        }
    )
    reviewed = mart.loc[expected.index]
    for column in (
        "count_reviews",
        "count_positive_reviews",
        "count_negative_reviews",
        "latest_review_score",
    ):
        assert (reviewed[column].to_numpy() == expected[column].to_numpy()).all()
    np.testing.assert_allclose(
        reviewed["avg_review_score"], expected["mean"], atol=0.005
    )
    np.testing.assert_allclose(
        reviewed["pct_positive_reviews"],
        expected["count_positive_reviews"] / expected["count_reviews"],
        atol=0.00005,
    )
    assert (
        pd.to_datetime(reviewed["latest_review_date"]) == expected["latest_review_date"]
    ).all()
    # Customers without reviews: 0 reviews, every score and share unknown.
    others = mart.drop(expected.index)
    assert len(others) > 0
    assert (others["count_reviews"] == 0).all()
    assert (others["count_positive_reviews"] == 0).all()
    for column in (
        "latest_review_score",
        "avg_review_score",
        "pct_positive_reviews",
        "pct_negative_reviews",
        "latest_review_date",
    ):
        assert others[column].isna().all(), column


def test_satisfied_persons_score_higher(demo_warehouse):
    """Planted: review scores follow the person's latent satisfaction."""
    persons = pd.read_csv(demo_warehouse.data_dir / "truth" / "persons.csv")
    records = pd.read_csv(demo_warehouse.data_dir / "truth" / "source_records.csv")
    identity = demo_warehouse.query(
        "select source_customer_id as source_id, customer_id "
        "from intermediate.int_customer_identity_map where source_system = 'shop'"
    )
    scores = demo_warehouse.query(
        "select customer_id, avg_review_score, count_reviews "
        "from marts.dim_customer_satisfaction where count_reviews > 0"
    )
    people = (
        identity.merge(records[["source_id", "person_id"]], on="source_id")
        .drop_duplicates("customer_id")
        .merge(persons[["person_id", "persona", "latent_satisfaction"]])
        .merge(scores, on="customer_id")
    )
    assert len(people) > 0.9 * len(scores)
    corr = np.corrcoef(people["avg_review_score"], people["latent_satisfaction"])
    assert corr[0, 1] > 0.5
    by_persona = people.groupby("persona")["avg_review_score"].mean()
    assert by_persona["loyal_regular"] > by_persona["bargain_hunter"] + 0.3


ACCOUNTS = """account_id,full_name,email,registered_at
A1,Ann Example,ann@example.com,2024-01-01
A2,Bob Example,bob@example.com,2024-01-01
"""
ORDERS = """order_id,account_id,ordered_at,status
O1,A1,2024-02-01 10:00:00,completed
O2,A2,2024-03-01 10:00:00,completed
"""
LINES = """order_id,line_number,product_id,quantity,unit_price
O1,1,P1,1,10.00
O2,1,P2,2,5.00
"""
PRODUCTS = """product_id,product_name,category,list_price,unit_cost
P1,Lamp,home,10.00,4.00
P2,Kite,toys,5.00,2.00
"""


def _tiny_raw(root) -> None:
    raw = root / "raw"
    raw.mkdir(parents=True)
    for name, text in (
        ("shop_accounts", ACCOUNTS),
        ("orders", ORDERS),
        ("order_lines", LINES),
        ("products", PRODUCTS),
    ):
        (raw / f"{name}.csv").write_text(text, encoding="utf-8")


def test_without_a_reviews_file_the_review_marts_are_empty(tmp_path):
    """order_reviews.csv is optional: without it the build is green, the
    review marts are empty and every customer has 0 reviews and unknown
    scores."""
    _tiny_raw(tmp_path / "none")
    warehouse = build(tmp_path / "none", tmp_path / "build_none")
    for table in (
        "fct_order_reviews",
        "fct_reviews_monthly",
        "fct_product_review_scores",
    ):
        assert warehouse.query(f"select count(*) as n from marts.{table}")["n"][0] == 0
    customers = warehouse.query(
        "select count_reviews, avg_review_score from marts.dim_customer_satisfaction"
    )
    assert len(customers) == 2
    assert (customers["count_reviews"] == 0).all()
    assert customers["avg_review_score"].isna().all()
    reconciliation = warehouse.query(
        "select * from marts.dq_row_reconciliation where source_table = 'order_reviews'"
    )
    assert reconciliation[["count_rows_in", "count_kept"]].to_numpy().tolist() == [
        [0, 0]
    ]
