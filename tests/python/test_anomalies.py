"""Anomaly evidence on planted synthetic customers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crm_analytics.ml.anomalies import ANOMALY_COLUMNS, detect_anomalies, evidence
from crm_analytics.pii import EMAIL_PATTERN, PHONE_PATTERN


def customers(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    orders = rng.integers(1, 30, n)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:04d}" for i in range(n)],
            "avg_units_per_line": 1 + rng.gamma(1.0, 0.4, n),
            "max_orders_in_3_days": rng.integers(1, 4, n),
            "avg_lines_per_order": 1 + rng.gamma(1.5, 0.8, n),
            "avg_order_value": rng.lognormal(4.5, 0.6, n),
            "count_orders": orders,
            "count_returned_orders": rng.binomial(orders, 0.05),
        }
    )


def test_reasons_with_large_values_do_not_look_like_personal_data():
    """The values of three customers of the 1M-customer bench (avg order
    value 443,382.49 at 110.2x its threshold, ...): written as
    "443,382.49 (110.2x threshold)" they matched the phone pattern, and the
    publish refused the build."""
    frame = customers()
    frame.loc[:2, "avg_order_value"] = [443_382.49, 1_072_448.31, 2_236.38]
    frame.loc[:2, "avg_units_per_line"] = [236.38, 408.67, 22_236.38]
    scored = detect_anomalies(frame).set_index("customer_id")
    reasons = scored.loc[["c0000", "c0001", "c0002"], "anomaly_reasons"]
    for text in reasons:
        assert not re.search(PHONE_PATTERN, text), text
        assert not re.search(EMAIL_PATTERN, text), text
    assert reasons.loc["c0000"].startswith("avg_order_value=443,382.49, ")


def test_planted_reseller_burst_and_return_abuser_are_flagged_with_reasons():
    frame = customers()
    frame.loc[0, "avg_units_per_line"] = 240.0
    frame.loc[1, "max_orders_in_3_days"] = 25
    frame.loc[2, ["count_orders", "count_returned_orders"]] = (12, 9)
    scored = detect_anomalies(frame).set_index("customer_id")
    assert scored.loc[["c0000", "c0001", "c0002"], "is_anomaly"].all()
    assert scored.loc["c0000", "anomaly_reasons"].startswith("avg_units_per_line=240")
    assert scored.loc["c0001", "anomaly_reasons"].startswith("max_orders_in_3_days=25")
    assert scored.loc["c0002", "anomaly_reasons"].startswith("returned 9 of 12 orders")
    others = scored.drop(index=["c0000", "c0001", "c0002"])
    assert others["is_anomaly"].mean() < 0.01
    assert ((scored["anomaly_reasons"] == "") == ~scored["is_anomaly"]).all()
    assert (scored["is_anomaly"] == (scored["anomaly_score"] >= 1)).all()


def test_magnitude_evidence_is_value_over_factor_times_p99_by_hand():
    frame = customers()
    p99 = np.quantile(frame["avg_order_value"], 0.99)
    strength = evidence(frame, factor=3)
    expected = frame["avg_order_value"] / (3 * p99)
    assert strength["avg_order_value"].to_numpy() == pytest.approx(expected.to_numpy())


def test_return_evidence_is_the_binomial_tail_by_hand():
    frame = customers()
    frame.loc[5, ["count_orders", "count_returned_orders"]] = (4, 3)
    rate = frame["count_returned_orders"].sum() / frame["count_orders"].sum()
    tail = stats.binom.sf(2, 4, rate)  # P(at least 3 of 4)
    strength = evidence(frame, return_p=1e-3)
    assert strength.loc[5, "returned_orders"] == pytest.approx(-np.log10(tail) / 3)


def test_one_return_of_two_orders_is_not_an_anomaly():
    frame = customers()
    frame.loc[7, ["count_orders", "count_returned_orders"]] = (2, 1)
    assert not detect_anomalies(frame).loc[7, "is_anomaly"]


def test_too_few_customers_flags_nobody_and_keeps_the_columns():
    scored = detect_anomalies(customers(n=20).assign(avg_units_per_line=500.0))
    assert not scored["is_anomaly"].any()
    assert list(scored.columns) == list(ANOMALY_COLUMNS)


def test_missing_column_is_a_clear_error():
    with pytest.raises(ValueError, match="max_orders_in_3_days"):
        detect_anomalies(customers().drop(columns="max_orders_in_3_days"))
