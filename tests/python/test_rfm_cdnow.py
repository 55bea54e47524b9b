"""Reference test on real data: our RFM summary of the CDNOW sample equals the
one published with lifetimes (weekly units, calibration through 1997-09-30)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import Warehouse, build, build_fixture

from crm_analytics.ml.propensity import churn_label, fit_propensity, predict

pytestmark = pytest.mark.e2e

CDNOW = Path(__file__).parent / "data" / "cdnow"


def write_transactions(out: Path) -> None:
    """CDNOW_sample.txt (whitespace separated, no header) as transactions.csv."""
    rows = [
        line.split()
        for line in (CDNOW / "CDNOW_sample.txt").read_text().splitlines()
        if line.strip()
    ]
    frame = pd.DataFrame(
        {
            "customer_id": [row[1] for row in rows],
            "transacted_at": [row[2] for row in rows],
            "amount": [row[4] for row in rows],
        }
    )
    out.mkdir(parents=True)
    frame.to_csv(out / "transactions.csv", index=False)


@build_fixture(scope="module")
def cdnow(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    root = tmp_path_factory.mktemp("cdnow")
    write_transactions(root / "data" / "raw")
    return build(
        root / "data",
        root / "build",
        "--vars",
        "{as_of_date: '1997-09-30', rfm_time_unit: week}",
    )


@pytest.fixture(scope="module")
def cdnow_rfm(cdnow: Warehouse) -> pd.DataFrame:
    return cdnow.query(
        """
        select cast(identity_map.source_customer_id as integer) as "ID", rfm.*
        from marts.dim_customer_rfm as rfm
        inner join intermediate.int_customer_identity_map as identity_map
            on rfm.customer_id = identity_map.customer_id
        """
    )


def test_every_cdnow_customer_matches_the_published_summary(cdnow_rfm):
    summary = pd.read_csv(CDNOW / "cdnow_customers_summary.csv")
    joined = summary.merge(cdnow_rfm, on="ID", how="left", suffixes=("", "_ours"))
    assert len(summary) == 2357
    assert joined["frequency_ours"].notna().all(), "every customer is scored"
    assert (joined["frequency"] == joined["frequency_ours"]).all()
    assert (joined["recency"] == joined["recency_ours"].round(2)).all()
    assert (joined["T"] == joined["t"].round(2)).all()
    assert (cdnow_rfm["rfm_time_unit"] == "week").all()


def test_monetary_value_matches_zbar_to_the_cent(cdnow_rfm):
    published = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    joined = published.merge(cdnow_rfm, on="ID", how="left")
    # zbar is rounded to cents: it differs from the exact mean by <= 0.005.
    difference = (joined["zbar"] - joined["monetary_value"]).abs()
    assert difference.max() <= 0.005 + 1e-9
    assert (joined.loc[joined["x"] == 0, "monetary_value"] == 0).all()


def test_the_stored_churn_model_scores_as_its_fit_on_real_data(cdnow):
    """On CDNOW the build stores the churn model its evaluation published,
    and the mart's probabilities are that model's, fitted again here on
    the same snapshot with the same seed (load after store changes
    nothing)."""
    stored = cdnow.query(
        "select model_name, candidate, training_rows, note "
        "from intermediate.int_propensity_models order by model_name"
    )
    published = cdnow.query(
        "select candidate from intermediate.int_churn_evaluation "
        "where is_published and metric_name = 'fitted' and metric_value = 1"
    )
    churn = stored.set_index("model_name").loc["churn"]
    assert churn["candidate"] == published["candidate"].item()
    assert pd.isna(churn["note"]) and churn["training_rows"] > 50
    snapshots = cdnow.query(
        "select * from intermediate.int_customer_feature_snapshots where is_active"
    )
    model = fit_propensity(
        snapshots.loc[snapshots["snapshot_name"] == "churn_test"],
        churn_label,
        42,
        candidate=churn["candidate"],
    )
    current = snapshots.loc[snapshots["snapshot_name"] == "current"]
    expected = pd.Series(predict(model, current), index=current["customer_id"])
    scores = cdnow.query(
        "select customer_id, p_churn from marts.fct_customer_churn_scores"
    ).set_index("customer_id")["p_churn"]
    assert len(scores) == len(current) > 100
    assert (scores - expected.reindex(scores.index)).abs().max() < 1e-12
