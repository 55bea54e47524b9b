"""BG/NBD and Gamma-Gamma against the published CDNOW results, and the
time-unit and input checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime

from crm_analytics.ml.clv import (
    _BgnbdObjective,
    bgnbd_expected_purchases,
    bgnbd_log_likelihood,
    bgnbd_p_alive,
    customer_lifetime_value,
    evaluate_bgnbd_holdout,
    fit_bgnbd,
    fit_clv_parameters,
    fit_gamma_gamma,
    gamma_gamma_expected_spend,
    score_clv,
)

CDNOW = Path(__file__).parent / "data" / "cdnow"


@pytest.fixture(scope="module")
def summary() -> pd.DataFrame:
    return pd.read_csv(CDNOW / "cdnow_customers_summary.csv")


@pytest.fixture(scope="module")
def weekly_fit(summary):
    return fit_bgnbd(summary["frequency"], summary["recency"], summary["T"], 7)


def test_bgnbd_reproduces_the_published_cdnow_estimates(weekly_fit):
    # Fader, Hardie & Lee (2005): r, alpha (weeks), a, b and the log-likelihood.
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert getattr(weekly_fit, name) == pytest.approx(value, rel=0.005), name
    assert weekly_fit.log_likelihood == pytest.approx(-9582.4, rel=0.005)


def test_conditional_expectation_matches_the_paper(weekly_fit):
    expected = bgnbd_expected_purchases(weekly_fit, 39 * 7, [2], [30.43], [38.86])
    assert expected[0] == pytest.approx(1.226, rel=0.005)


def test_gamma_gamma_reproduces_the_published_cdnow_estimates():
    repeat = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    fit = fit_gamma_gamma(repeat["x"], repeat["zbar"])
    assert fit.n_customers == 946
    assert fit.p == pytest.approx(6.25, rel=0.005)
    assert fit.q == pytest.approx(3.74, rel=0.005)
    assert fit.v == pytest.approx(15.44, rel=0.005)


def test_daily_and_weekly_units_give_the_same_calendar_forecast(summary, weekly_fit):
    daily_fit = fit_bgnbd(
        summary["frequency"], summary["recency"] * 7, summary["T"] * 7, 1
    )
    assert daily_fit.alpha == pytest.approx(weekly_fit.alpha * 7, rel=0.01)
    weekly = bgnbd_expected_purchases(
        weekly_fit, 90, summary["frequency"], summary["recency"], summary["T"]
    )
    daily = bgnbd_expected_purchases(
        daily_fit, 90, summary["frequency"], summary["recency"] * 7, summary["T"] * 7
    )
    np.testing.assert_allclose(daily, weekly, rtol=0.01)


def test_p_alive_is_a_probability_and_one_without_repeats(summary, weekly_fit):
    p_alive = bgnbd_p_alive(
        weekly_fit, summary["frequency"], summary["recency"], summary["T"]
    )
    assert ((p_alive > 0) & (p_alive <= 1)).all()
    assert (p_alive[summary["frequency"].to_numpy() == 0] == 1).all()
    # Same frequency, longer silence since the last purchase: less alive.
    recent, stale = bgnbd_p_alive(weekly_fit, [3, 3], [35, 5], [38, 38])
    assert recent > stale


def test_clv_grows_with_horizon_and_shrinks_with_discount(weekly_fit):
    spend_fit = fit_gamma_gamma([1, 2, 3, 4, 2, 5], [10, 20, 15, 30, 12, 18])
    args = (weekly_fit, spend_fit, [2, 0], [30.0, 0.0], [38.0, 38.0], [20.0, 0.0])
    one_year = customer_lifetime_value(*args, months=12, monthly_discount_rate=0.01)
    two_years = customer_lifetime_value(*args, months=24, monthly_discount_rate=0.01)
    undiscounted = customer_lifetime_value(*args, months=12, monthly_discount_rate=0)
    assert (two_years > one_year).all()
    assert (undiscounted > one_year).all()
    expected_purchases = bgnbd_expected_purchases(
        weekly_fit, 12 * 365.25 / 12, [2, 0], [30.0, 0.0], [38.0, 38.0]
    )
    spend = gamma_gamma_expected_spend(spend_fit, [2, 0], [20.0, 0.0])
    np.testing.assert_allclose(undiscounted, expected_purchases * spend, rtol=1e-9)


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="recency"):
        fit_bgnbd([1], [5], [3], 1)
    with pytest.raises(ValueError, match="no customers"):
        fit_bgnbd([], [], [], 1)
    with pytest.raises(ValueError, match="same length"):
        fit_bgnbd([1, 2], [1], [3], 1)
    with pytest.raises(ValueError, match="repeat buyers"):
        fit_gamma_gamma([0, 0, 1], [0, 0, 5])


def test_holdout_evaluation_on_cdnow_tracks_real_repeat_purchases(summary):
    """Calibration through 1997-09-30, holdout to 1998-06-30 (273 days):
    BG/NBD's expected repeat purchase days against the real ones."""
    rows = [
        line.split()
        for line in (CDNOW / "CDNOW_sample.txt").read_text().splitlines()
        if line.strip()
    ]
    transactions = pd.DataFrame(
        {"ID": [int(r[1]) for r in rows], "date": pd.to_datetime([r[2] for r in rows])}
    )
    later = transactions[transactions["date"] > "1997-09-30"].drop_duplicates()
    actual = summary["ID"].map(later.groupby("ID").size()).fillna(0)
    holdout = summary.rename(columns={"T": "t"}).assign(
        rfm_time_unit="week", holdout_days=273, count_holdout_periods=actual
    )
    metrics = dict(evaluate_bgnbd_holdout(holdout))
    assert metrics["holdout_customers"] == 2357
    assert metrics["holdout_actual_purchases"] == actual.sum()
    ratio = metrics["holdout_predicted_purchases"] / metrics["holdout_actual_purchases"]
    assert 0.8 < ratio < 1.2
    assert metrics["holdout_correlation"] > 0.5


def test_too_few_repeat_buyers_give_empty_parameters():
    rfm = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "rfm_time_unit": ["day", "day"],
            "frequency": [0, 1],
            "recency": [0.0, 5.0],
            "t": [10.0, 10.0],
            "monetary_value": [0.0, 3.0],
        }
    )
    parameters = fit_clv_parameters(rfm)
    assert parameters.empty
    assert list(parameters.columns) == ["model_name", "metric_name", "value"]
    assert score_clv(rfm, parameters, 12, 0.01).empty


def test_fits_do_not_depend_on_row_order(summary):
    shuffled = summary.sample(frac=1.0, random_state=4)
    first = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"], 7)
    second = fit_bgnbd(shuffled["frequency"], shuffled["recency"], shuffled["T"], 7)
    assert first == second
    repeat = pd.read_csv(CDNOW / "cdnow_customers_summary_with_transactions.csv")
    mixed = repeat.sample(frac=1.0, random_state=4)
    spend = fit_gamma_gamma(repeat["x"], repeat["zbar"])
    assert spend == fit_gamma_gamma(mixed["x"], mixed["zbar"])


@pytest.mark.parametrize("penalizer", [0.0, 0.1])
@pytest.mark.parametrize(
    "params",
    [(0.243, 4.414, 0.793, 2.426), (2.0, 30.0, 0.05, 0.6), (0.5, 1.0, 3.0, 9.0)],
)
def test_fit_objective_and_gradient_match_the_likelihood(summary, params, penalizer):
    # The optimiser's objective is the mean negative log-likelihood (plus the
    # penalty) computed by value; its analytic gradient must agree with a
    # finite-difference gradient of that value. b < 1 exercises b + x - 1 < 1.
    x, tx, t = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    weight = np.ones_like(x)
    weight[::3] = 2.0  # unequal weights, as duplicate customers give
    objective = _BgnbdObjective(x, tx, t, weight, penalizer)
    log_params = np.log(params)
    value, gradient = objective(log_params)
    ll = bgnbd_log_likelihood(params, x, tx, t)
    expected = -(weight * ll).sum() / weight.sum() + penalizer * np.sum(
        np.square(params)
    )
    assert value == pytest.approx(expected, rel=1e-12)
    numeric = approx_fprime(log_params, lambda p: objective(p)[0], 1e-7)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-6)
