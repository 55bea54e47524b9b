"""Reference test on real data: our RFM summary of the CDNOW sample equals the
one published with lifetimes (weekly units, calibration through 1997-09-30)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from helpers import build, build_fixture

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
def cdnow_rfm(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    root = tmp_path_factory.mktemp("cdnow")
    write_transactions(root / "data" / "raw")
    warehouse = build(
        root / "data",
        root / "build",
        "--vars",
        "{as_of_date: '1997-09-30', rfm_time_unit: week}",
    )
    return warehouse.query(
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
