"""End to end: a shop too small for the propensity models. The build still
succeeds; each model writes a `fitted` = 0 row with the reason to
fct_ml_model_metrics, its score mart is empty, and the build's output holds
one warning line per model."""

from __future__ import annotations

import re

import pytest
from helpers import Warehouse, build, build_fixture, generate

pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@build_fixture(scope="module")
def thin_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    root = tmp_path_factory.mktemp("thin")
    data_dir = generate(root / "data", "--customers", "40", "--seed", "3")
    return build(data_dir, root / "build")


def count(warehouse: Warehouse, snapshot: str, where: str = "true") -> int:
    return int(
        warehouse.query(
            "select count(*) as n from intermediate.int_customer_feature_snapshots "
            f"where snapshot_name = '{snapshot}' and {where}"
        ).iloc[0]["n"]
    )


def test_not_fitted_is_a_row_with_the_reason(thin_warehouse: Warehouse):
    rows = thin_warehouse.query(
        "select model_name, candidate, metric_name, metric_value, is_published, "
        "note from marts.fct_ml_model_metrics "
        "where model_name in ('churn', 'purchase_propensity') "
        "and candidate <> 'category_affinity' order by model_name"
    )
    # the reason names the snapshot and its size, counted independently
    active = count(thin_warehouse, "churn_train", "is_active")
    buyers = count(thin_warehouse, "purchase_train")
    assert active < 50 and buyers < 50
    assert rows.to_dict("records") == [
        {
            "model_name": "churn",
            "candidate": "none",
            "metric_name": "fitted",
            "metric_value": 0.0,
            "is_published": True,
            "note": f"{active} customers in churn_train (active customers); "
            "at least 50 needed",
        },
        {
            "model_name": "purchase_propensity",
            "candidate": "none",
            "metric_name": "fitted",
            "metric_value": 0.0,
            "is_published": True,
            "note": f"{buyers} customers in purchase_train; at least 50 needed",
        },
    ]


def test_not_fitted_marts_are_empty(thin_warehouse: Warehouse):
    for table in ["fct_customer_churn_scores", "fct_customer_purchase_propensity"]:
        n = thin_warehouse.query(f"select count(*) as n from marts.{table}")
        assert n.iloc[0]["n"] == 0, table
    # the rest of the warehouse was built: the shop has buyers
    buyers = thin_warehouse.query(
        "select count(*) as n from marts.dim_customers where is_buyer"
    )
    assert buyers.iloc[0]["n"] > 0


def test_the_build_output_says_why_once_per_model(thin_warehouse: Warehouse):
    lines = ANSI.sub("", thin_warehouse.result.stdout).splitlines()
    for table, model in [
        ("fct_customer_churn_scores", "churn"),
        ("fct_customer_purchase_propensity", "purchase_propensity"),
    ]:
        warnings = [line for line in lines if f"{table} is empty" in line]
        assert len(warnings) == 1, warnings
        assert "[WARNING]: " in warnings[0]
        assert f"the {model} model was not fitted (" in warnings[0]
        assert "at least 50 needed" in warnings[0]
