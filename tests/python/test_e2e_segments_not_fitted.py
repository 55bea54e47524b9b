"""End to end: a shop too small to segment. The build succeeds; the
segmentation writes a `fitted` = 0 row with the reason, every buyer gets the
segment `unsegmented` (coverage 0, said so), and the build's output holds
one warning line naming the model and the reason."""

from __future__ import annotations

import re

import pytest
from helpers import Warehouse, build, build_fixture, generate

pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@build_fixture(scope="module")
def thin_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    root = tmp_path_factory.mktemp("thin_segments")
    data_dir = generate(root / "data", "--customers", "40", "--seed", "3")
    return build(data_dir, root / "build")


def test_segmentation_not_fitted_is_a_row_a_segment_and_one_warning(
    thin_warehouse: Warehouse,
):
    repeat = int(
        thin_warehouse.query(
            "select count(*) as n from intermediate.int_customer_feature_snapshots "
            "where snapshot_name = 'current' and count_purchase_days >= 2"
        ).iloc[0]["n"]
    )
    assert repeat < 81
    reason = f"{repeat} buyers with at least 2 purchase days; at least 81 needed"
    rows = thin_warehouse.query(
        "select metric_name, metric_value, note from marts.fct_ml_model_metrics "
        "where model_name = 'segmentation' and is_published "
        "and metric_name in ('fitted', 'coverage') order by metric_name"
    )
    rows = rows.astype(object).where(rows.notna(), None)
    assert rows.to_dict("records") == [
        {"metric_name": "coverage", "metric_value": 0.0, "note": None},
        {"metric_name": "fitted", "metric_value": 0.0, "note": reason},
    ]
    segments = thin_warehouse.query(
        "select distinct segment_id from marts.dim_customer_segments"
    )
    assert segments["segment_id"].tolist() == ["unsegmented"]
    lines = ANSI.sub("", thin_warehouse.result.stdout).splitlines()
    warnings = [
        line for line in lines if "int_segment_model:" in line and "WARNING" in line
    ]
    assert len(warnings) == 1, warnings
    # besides the refit schedule's line (not a warning)
    assert [line for line in lines if "int_segment_model: fitted (" in line]
    assert "[WARNING]: " in warnings[0]
    assert f"the segmentation model was not fitted ({reason})" in warnings[0]
