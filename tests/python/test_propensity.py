"""Churn and purchase propensity on small planted frames."""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
import pandas as pd
import pytest
from skops.io.exceptions import UntrustedTypesFoundException
from threadpoolctl import threadpool_limits

from crm_analytics.ml.propensity import (
    CANDIDATES,
    FEATURES,
    MODEL_FORMAT,
    OneFeatureScore,
    category_affinity,
    choose_candidate,
    churn_label,
    dump_model,
    evaluate_candidates,
    evaluate_category,
    expected_calibration_error,
    fit_propensity,
    fit_scoring_model,
    load_model,
    not_fitted_reason,
    published_candidate,
    purchase_label,
    risk_band,
    score_churn,
    score_purchase,
    stale_scoring_models,
    stored_scoring_model,
    top_decile_lift,
    warn_in_build,
)


@pytest.fixture(autouse=True)
def one_thread():
    """One OpenMP / BLAS thread, as in the build (crm_analytics.ml.one_thread):
    on shared cores more threads only wait for each other."""
    with threadpool_limits(limits=1):
        yield


def snapshot(n: int, seed: int, horizon: int = 90) -> pd.DataFrame:
    """Customers whose chance of a purchase in the horizon falls with
    recency: the planted signal. Other features are noise."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({feature: rng.gamma(2.0, 5.0, n) for feature in FEATURES})
    frame["days_since_last_purchase"] = rng.uniform(0, 180, n)
    frame["avg_nps_score"] = np.where(rng.random(n) < 0.5, np.nan, 7.0)
    p_buy = 1 / (1 + np.exp((frame["days_since_last_purchase"] - 90) / 15))
    frame["count_horizon_purchase_days"] = (rng.random(n) < p_buy).astype(int)
    frame["horizon_days"] = horizon
    frame.insert(0, "customer_id", [f"c{seed}_{i:05d}" for i in range(n)])
    return frame


def churn_scores(
    train: pd.DataFrame,
    current: pd.DataFrame,
    seed: int,
    candidate: str = "gradient_boosting",
) -> pd.DataFrame:
    """``current`` scored by ``candidate`` fitted on ``train``."""
    return score_churn(
        fit_propensity(train, churn_label, seed, candidate=candidate), current
    )


def figures(evaluation: pd.DataFrame) -> pd.DataFrame:
    """candidate x metric_name of an evaluation."""
    return evaluation.pivot_table(
        index="candidate", columns="metric_name", values="metric_value"
    )


def published(evaluation: pd.DataFrame) -> pd.Series:
    """The published candidate's metrics by name."""
    rows = evaluation.loc[evaluation["is_published"]]
    return rows.set_index("metric_name")["metric_value"]


def test_out_of_time_evaluation_finds_the_planted_signal():
    evaluation = evaluate_candidates(
        snapshot(3000, 1), snapshot(3000, 2), churn_label, 42
    )
    wide = figures(evaluation)
    assert set(wide.index) == set(CANDIDATES)
    # the planted signal is recency: every candidate that sees it ranks well
    for candidate in [
        "gradient_boosting",
        "logistic",
        "heuristic_days_since_last_purchase",
    ]:
        assert wide.loc[candidate, "roc_auc"] > 0.9
        assert wide.loc[candidate, "top_decile_lift"] > 1.5
        assert wide.loc[candidate, "brier_score"] < 0.15
    # purchase days are noise here
    assert wide.loc["heuristic_count_purchase_days", "roc_auc"] < 0.6
    # calibrated on the test window: the mean probability is its label rate
    assert (wide["mean_predicted"] - wide["test_label_rate"]).abs().max() < 0.01
    assert (wide["ece"] < 0.05).all()
    best = published(evaluation)
    assert best["fitted"] == 1
    assert best["log_loss"] == wide["log_loss"].min()


def linear_snapshot(n: int, seed: int) -> pd.DataFrame:
    """A label whose log-odds are linear in three features: the logistic
    regression is the true model, and with few rows the boosted model
    cannot catch up."""
    frame = snapshot(n, seed)
    rng = np.random.default_rng(seed + 100)
    for feature in ["count_purchase_days", "avg_order_value", "avg_lines_per_order"]:
        frame[feature] = rng.normal(0, 1, n)
    logit = (
        1.2 * frame["count_purchase_days"]
        - 1.0 * frame["avg_order_value"]
        + 0.8 * frame["avg_lines_per_order"]
    )
    p_buy = 1 / (1 + np.exp(-logit))
    frame["count_horizon_purchase_days"] = (rng.random(n) < p_buy).astype(int)
    return frame


def interaction_snapshot(n: int, seed: int) -> pd.DataFrame:
    """A label that depends on two features together (buyers are those
    whose order value and basket size are both high or both low): no single
    feature and no linear model sees it; trees do."""
    frame = snapshot(n, seed)
    rng = np.random.default_rng(seed + 200)
    frame["avg_order_value"] = rng.normal(0, 1, n)
    frame["avg_lines_per_order"] = rng.normal(0, 1, n)
    same_sign = frame["avg_order_value"] * frame["avg_lines_per_order"] > 0
    p_buy = np.where(same_sign, 0.85, 0.15)
    frame["count_horizon_purchase_days"] = (rng.random(n) < p_buy).astype(int)
    return frame


def test_the_logistic_baseline_wins_when_the_truth_is_linear():
    evaluation = evaluate_candidates(
        linear_snapshot(400, 1), linear_snapshot(3000, 2), purchase_label, 42
    )
    wide = figures(evaluation)
    assert published(evaluation)["fitted"] == 1
    assert evaluation.loc[evaluation["is_published"], "candidate"].unique() == [
        "logistic"
    ]
    assert wide.loc["logistic", "log_loss"] < wide.loc["gradient_boosting", "log_loss"]
    assert wide.loc["logistic", "roc_auc"] > wide.loc["gradient_boosting", "roc_auc"]


def test_gradient_boosting_wins_on_an_interaction():
    evaluation = evaluate_candidates(
        interaction_snapshot(3000, 1),
        interaction_snapshot(3000, 2),
        purchase_label,
        42,
    )
    wide = figures(evaluation)
    assert evaluation.loc[evaluation["is_published"], "candidate"].unique() == [
        "gradient_boosting"
    ]
    assert wide.loc["gradient_boosting", "roc_auc"] > 0.75
    assert (wide.drop(index="gradient_boosting")["roc_auc"] < 0.6).all()
    note = evaluation.set_index(["candidate", "metric_name"]).loc[
        ("gradient_boosting", "fitted"), "note"
    ]
    assert note.startswith("published: lowest out-of-time log_loss of 4 candidates")


@pytest.mark.parametrize("maker", [snapshot, linear_snapshot, interaction_snapshot])
@pytest.mark.parametrize("seed", [3, 4])
def test_the_published_candidate_is_never_worse_on_log_loss(maker, seed):
    evaluation = evaluate_candidates(
        maker(500, seed), maker(800, seed + 10), purchase_label, seed
    )
    wide = figures(evaluation)
    winners = evaluation.loc[evaluation["is_published"], "candidate"].unique()
    assert len(winners) == 1
    assert (wide.loc[winners[0], "log_loss"] <= wide["log_loss"]).all()
    # the note names the runner-up with its log loss
    fitted = evaluation.loc[evaluation["metric_name"] == "fitted"]
    assert len(fitted) == 1 and fitted["metric_value"].iloc[0] == 1
    runner_up = wide["log_loss"].drop(index=winners[0]).idxmin()
    assert f"next {runner_up} " in fitted["note"].iloc[0]


def test_choose_candidate_by_hand():
    figures_by_candidate = {
        "gradient_boosting": {"log_loss": 0.60, "roc_auc": 0.80},
        "logistic": {"log_loss": 0.55, "roc_auc": 0.75},
        "heuristic_count_purchase_days": {"log_loss": 0.58, "roc_auc": 0.70},
    }
    # the primary metric decides, not ROC AUC
    assert choose_candidate(figures_by_candidate) == "logistic"
    figures_by_candidate["gradient_boosting"]["log_loss"] = 0.50
    assert choose_candidate(figures_by_candidate) == "gradient_boosting"
    # a tie goes to the simpler candidate
    tie = {"gradient_boosting": {"log_loss": 0.5}, "logistic": {"log_loss": 0.5}}
    assert choose_candidate(tie) == "logistic"


def test_expected_calibration_error_by_hand():
    p = np.array([0.05, 0.05, 0.15, 0.35, 0.35, 0.35, 0.95, 1.0])
    y = np.array([0, 0, 1, 0, 1, 1, 1, 1])
    # bins [0, .1): p 0.05 x2, rate 0 -> gap 0.05, weight 2/8
    #      [.1, .2): p 0.15, rate 1 -> gap 0.85, weight 1/8
    #      [.3, .4): p 0.35 x3, rate 2/3 -> gap 0.31667, weight 3/8
    #      [.9, 1]: p 0.95 and 1.0 (1 falls in the last bin), rate 1 -> gap
    #               0.025, weight 2/8
    expected = (2 * 0.05 + 0.85 + 3 * (2 / 3 - 0.35) + 2 * 0.025) / 8
    assert expected_calibration_error(y, p) == pytest.approx(expected)
    assert expected == pytest.approx(0.24375)
    # perfectly calibrated bins score 0
    assert expected_calibration_error(np.array([0, 1]), np.array([0.5, 0.5])) == 0


def test_the_heuristic_ranks_in_the_direction_the_training_rows_show():
    train = snapshot(2000, 1)
    recency = OneFeatureScore("days_since_last_purchase")
    x = train[list(FEATURES)]
    # churn rises with recency, purchases fall with it
    assert recency.fit(x, churn_label(train)).sign_ == 1
    assert recency.fit(x, purchase_label(train)).sign_ == -1
    score = recency.decision_function(x)
    np.testing.assert_array_equal(score, -train["days_since_last_purchase"])


def test_churn_scores_band_and_explain_with_the_planted_feature():
    current = snapshot(600, 3).drop(columns="count_horizon_purchase_days")
    scored = churn_scores(snapshot(3000, 1), current, 42)
    assert len(scored) == 600 and scored["p_churn"].between(0, 1).all()
    assert (scored["churn_risk_band"] == risk_band(scored["p_churn"])).all()
    riskiest = scored.nlargest(20, "p_churn")["churn_reasons"]
    assert riskiest.str.startswith("days_since_last_purchase=").all()
    assert (scored["horizon_days"] == 90).all()
    # the most recent buyers are the safest
    recent = current["days_since_last_purchase"] < 30
    assert scored.loc[recent, "p_churn"].mean() < 0.1


def test_same_seed_gives_identical_scores():
    current = snapshot(300, 3)
    first = churn_scores(snapshot(1000, 1), current, 5)
    second = churn_scores(snapshot(1000, 1), current, 5)
    pd.testing.assert_frame_equal(first, second)


def test_risk_bands_follow_the_documented_thresholds():
    bands = risk_band(np.array([0.0, 0.29, 0.3, 0.59, 0.6, 1.0]))
    assert list(bands) == ["low", "low", "medium", "medium", "high", "high"]


def test_top_decile_lift_by_hand():
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 1])
    p = np.array([0.9, 0.1, 0.2, 0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2])
    # top decile = the single highest score, a positive: rate 1 / base 0.2
    assert top_decile_lift(y, p) == pytest.approx(5.0)


def test_nothing_to_learn_gives_no_model_and_empty_outputs():
    one_class = snapshot(200, 1).assign(count_horizon_purchase_days=1)
    assert fit_propensity(one_class, churn_label, 1) is None
    evaluation = evaluate_candidates(
        one_class, snapshot(200, 2), churn_label, 1, "churn_train"
    )
    reason = (
        "0 of 200 customers in churn_train churned; at least 10 of each outcome needed"
    )
    assert evaluation.to_dict("records") == [
        {
            "candidate": "none",
            "metric_name": "fitted",
            "metric_value": 0.0,
            "is_published": True,
            "note": reason,
        }
    ]
    assert published_candidate(evaluation) == (None, reason)
    assert churn_scores(one_class, snapshot(10, 2), 1).empty
    assert score_churn(None, snapshot(10, 2)).empty


def test_not_fitted_reasons_say_what_is_missing():
    assert not_fitted_reason(snapshot(49, 1), churn_label, "churn_train") == (
        "49 customers in churn_train; at least 50 needed"
    )
    assert not_fitted_reason(snapshot(0, 1), churn_label, "churn_train") == (
        "0 customers in churn_train; at least 50 needed"
    )
    few_buyers = snapshot(100, 1).assign(count_horizon_purchase_days=0)
    few_buyers.loc[:8, "count_horizon_purchase_days"] = 1
    assert not_fitted_reason(few_buyers, purchase_label, "purchase_test") == (
        "9 of 100 customers in purchase_test bought; at least 10 of each outcome needed"
    )
    few_buyers.loc[9, "count_horizon_purchase_days"] = 2
    assert not_fitted_reason(few_buyers, purchase_label, "purchase_test") is None
    # a test snapshot of one class cannot judge the candidates either
    evaluation = evaluate_candidates(
        snapshot(300, 1),
        snapshot(300, 2).assign(count_horizon_purchase_days=0),
        purchase_label,
        1,
        "purchase_train",
        "purchase_test",
    )
    assert published_candidate(evaluation) == (
        None,
        "0 of 300 customers in purchase_test bought; "
        "at least 10 of each outcome needed",
    )


def test_the_warning_outside_dbt_is_one_line_on_stderr(capsys):
    warn_in_build("fct_customer_churn_scores is empty: 3 customers")
    captured = capsys.readouterr()
    assert (
        captured.err == "[WARNING]: fct_customer_churn_scores is empty: 3 customers\n"
    )


@pytest.mark.parametrize("candidate", CANDIDATES)
def test_every_candidate_scores_and_explains(candidate):
    current = snapshot(300, 3).drop(columns="count_horizon_purchase_days")
    scored = churn_scores(snapshot(1500, 1), current, 4, candidate)
    assert len(scored) == 300 and scored["p_churn"].between(0, 1).all()
    # sigmoid calibration is never certain
    assert scored["p_churn"].between(0, 1, inclusive="neither").all()
    reasons = scored["churn_reasons"].str.split("; ").explode()
    named = reasons[reasons != ""].str.split("=").str[0]
    if candidate.startswith("heuristic_"):
        # one feature alone: it is the only possible reason
        assert set(named) <= {candidate.removeprefix("heuristic_")}
    if candidate != "heuristic_count_purchase_days":
        riskiest = scored.nlargest(20, "p_churn")["churn_reasons"]
        assert riskiest.str.startswith("days_since_last_purchase=").all()


def test_missing_feature_is_a_clear_error():
    with pytest.raises(ValueError, match="avg_csat_score"):
        fit_propensity(snapshot(200, 1).drop(columns="avg_csat_score"), churn_label, 1)


def categories_frame():
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "category": ["books", "toys", "toys", "books"],
            "count_lines_before_cutoff": [3, 1, 2, 0],
            "count_lines_in_horizon": [0, 1, 0, 2],
        }
    )


def test_category_affinity_is_smoothed_towards_the_population_by_hand():
    affinity = category_affinity(categories_frame()).set_index("customer_id")
    # population lines: books 3, toys 3 -> prior 0.5 each
    assert affinity.loc["a", "most_likely_category"] == "books"
    assert affinity.loc["a", "p_most_likely_category"] == pytest.approx(3.5 / 5)
    assert affinity.loc["b", "p_most_likely_category"] == pytest.approx(2.5 / 3)
    assert "c" not in affinity.index  # nothing bought before the cutoff


def test_category_evaluation_by_hand():
    metrics = dict(evaluate_category(categories_frame()))
    # buyers in the horizon: a (toys) and c (no history, not predicted);
    # a is predicted books: a miss. Baseline top category: books (tie with
    # toys broken by order) -> c bought books: 1 of 2 buyers.
    assert metrics["category_evaluation_customers"] == 1
    assert metrics["category_hit_rate"] == 0
    assert metrics["category_baseline_hit_rate"] == pytest.approx(0.5)


def test_products_without_a_category_give_no_category_evaluation():
    # the optional products.category absent: every line's category is null
    uncategorised = categories_frame().assign(category=None)
    assert evaluate_category(uncategorised) == []
    assert category_affinity(uncategorised).empty


def test_uncategorised_lines_are_no_evidence_of_a_category():
    frame = pd.concat(
        [
            categories_frame(),
            pd.DataFrame(
                {
                    "customer_id": ["a"],
                    "category": [None],
                    "count_lines_before_cutoff": [9],
                    "count_lines_in_horizon": [5],
                }
            ),
        ]
    )
    assert dict(evaluate_category(frame)) == dict(evaluate_category(categories_frame()))
    affinity = category_affinity(frame).set_index("customer_id")
    assert affinity.loc["a", "p_most_likely_category"] == pytest.approx(3.5 / 5)


def test_purchase_scores_carry_the_most_likely_category():
    current = snapshot(50, 3).assign(
        customer_id=["a", "b"] + [f"x{i}" for i in range(48)]
    )
    scored = score_purchase(
        fit_propensity(snapshot(1000, 1, 30), purchase_label, 1),
        current,
        categories_frame(),
    )
    by_customer = scored.set_index("customer_id")
    assert by_customer.loc["a", "most_likely_category"] == "books"
    assert by_customer.loc["b", "most_likely_category"] == "toys"
    assert scored["p_purchase"].between(0, 1).all()
    assert (scored["horizon_days"] == 30).all()


def test_row_order_does_not_change_the_model():
    train, current = snapshot(1500, 1), snapshot(200, 3)
    shuffled = train.sample(frac=1.0, random_state=9)
    pd.testing.assert_frame_equal(
        churn_scores(train, current, 5), churn_scores(shuffled, current, 5)
    )


def test_evaluation_does_not_depend_on_test_row_order():
    train, test = snapshot(1500, 1), snapshot(1500, 2)
    shuffled = test.sample(frac=1.0, random_state=2)
    pd.testing.assert_frame_equal(
        evaluate_candidates(train, test, churn_label, 3),
        evaluate_candidates(train, shuffled, churn_label, 3),
    )


def test_a_feature_nobody_has_is_left_out():
    # transactions-only input: no tickets or surveys, so no CSAT or NPS
    train = snapshot(1000, 1).assign(avg_csat_score=np.nan, avg_nps_score=np.nan)
    model = fit_propensity(train, churn_label, 1)
    assert "avg_csat_score" not in model.features
    scored = score_churn(model, snapshot(100, 2))
    assert scored["p_churn"].between(0, 1).all()
    assert not scored["churn_reasons"].str.contains("avg_csat_score").any()


def test_a_large_snapshot_is_fitted_on_a_sample_of_it():
    train = snapshot(3000, 1)
    model = fit_propensity(train, churn_label, 7, max_rows=1000)
    assert (model.n_rows, model.n_available) == (1000, 3000)
    # the sample is drawn after the sort: the order rows arrive in is irrelevant
    shuffled = train.sample(frac=1.0, random_state=4)
    again = fit_propensity(shuffled, churn_label, 7, max_rows=1000)
    test = snapshot(500, 2)
    np.testing.assert_array_equal(
        model.calibrated.predict_proba(test[list(model.features)])[:, 1],
        again.calibrated.predict_proba(test[list(model.features)])[:, 1],
    )
    # another seed draws another sample, so fits another model
    other = fit_propensity(train, churn_label, 8, max_rows=1000)
    assert not np.array_equal(
        model.calibrated.predict_proba(test[list(model.features)])[:, 1],
        other.calibrated.predict_proba(test[list(other.features)])[:, 1],
    )
    # under the cap nothing is sampled
    whole = fit_propensity(train, churn_label, 7)
    assert (whole.n_rows, whole.n_available) == (3000, 3000)


def test_the_evaluation_reports_the_sample_and_the_snapshot(monkeypatch):
    import crm_analytics.ml.propensity as propensity

    monkeypatch.setattr(propensity, "MAX_TRAINING_ROWS", 800)
    wide = figures(
        evaluate_candidates(snapshot(2000, 1), snapshot(1000, 2), churn_label, 3)
    )
    assert (wide["training_snapshot_rows"] == 2000).all()
    assert (wide["training_rows"] == 800).all()
    assert (wide["test_rows"] == 1000).all()
    assert wide.loc["gradient_boosting", "roc_auc"] > 0.9


def test_reasons_are_computed_for_the_riskiest_customers_only(monkeypatch):
    from crm_analytics.ml import propensity

    monkeypatch.setattr(propensity, "REASON_LIMIT", 50)
    current = snapshot(300, 3).drop(columns="count_horizon_purchase_days")
    scored = churn_scores(snapshot(1500, 1), current, 4)
    explained = scored["churn_reasons"].notna()
    assert explained.sum() == 50
    # the 50 explained are the 50 riskiest
    assert (
        scored.loc[explained, "p_churn"].min()
        >= scored.loc[~explained, "p_churn"].max()
    )


@pytest.mark.parametrize("candidate", CANDIDATES)
def test_a_stored_model_scores_and_explains_exactly_as_the_fitted_one(candidate):
    current = snapshot(300, 3).drop(columns="count_horizon_purchase_days")
    fitted = fit_propensity(snapshot(1500, 1), churn_label, 4, candidate=candidate)
    loaded = load_model(dump_model(fitted))
    assert (loaded.candidate, loaded.features, loaded.horizon_days) == (
        candidate,
        fitted.features,
        90,
    )
    pd.testing.assert_series_equal(loaded.medians, fitted.medians)
    pd.testing.assert_frame_equal(
        score_churn(loaded, current), score_churn(fitted, current)
    )


class Sneaky(OneFeatureScore):
    """A type no stored model may hold: it could run anything when made."""


def test_a_stored_model_with_a_type_not_allowed_does_not_load():
    fitted = fit_propensity(snapshot(500, 1), churn_label, 1, candidate="logistic")
    unsafe = dump_model(
        dataclasses.replace(
            fitted,
            reason_model=Sneaky().fit(
                snapshot(100, 2)[list(FEATURES)], np.r_[np.zeros(50), np.ones(50)]
            ),
        )
    )
    with pytest.raises(UntrustedTypesFoundException, match="Sneaky"):
        load_model(unsafe)


def test_the_scoring_model_row_holds_the_published_candidate_or_why_not():
    train, test = snapshot(1000, 1), snapshot(1000, 2)
    evaluation = evaluate_candidates(train, test, churn_label, 3)
    published = published_candidate(evaluation)[0]
    row = fit_scoring_model("churn", evaluation, test, churn_label, 3)
    assert row["note"].isna().all()
    assert row.drop(columns=["model", "note"]).to_dict("records") == [
        {
            "model_name": "churn",
            "candidate": published,
            "horizon_days": 90,
            "training_rows": 1000,
            "training_snapshot_rows": 1000,
            "model_format": MODEL_FORMAT,
        }
    ]
    model, reason = stored_scoring_model(row, "churn")
    assert reason is None and model.candidate == published
    refitted = fit_propensity(test, churn_label, 3, candidate=published)
    np.testing.assert_array_equal(
        model.calibrated.predict_proba(train[list(model.features)]),
        refitted.calibrated.predict_proba(train[list(model.features)]),
    )
    # the evaluation fitted nothing: its reason is the note
    one_class = test.assign(count_horizon_purchase_days=1)
    nothing = evaluate_candidates(train, one_class, churn_label, 3, "a", "b")
    row = fit_scoring_model("churn", nothing, one_class, churn_label, 3)
    assert (row.loc[0, "candidate"], row.loc[0, "model"]) == ("none", None)
    assert stored_scoring_model(row, "churn") == (None, published_candidate(nothing)[1])
    # a published candidate, but the latest snapshot cannot be learned from
    row = fit_scoring_model(
        "churn", evaluation, one_class, churn_label, 3, "churn_test"
    )
    assert stored_scoring_model(row, "churn") == (
        None,
        "0 of 1000 customers in churn_test churned; at least 10 of each outcome needed",
    )


def test_stored_scoring_models_are_stale_when_they_no_longer_match():
    stored = pd.DataFrame(
        {
            "model_name": ["churn", "purchase_propensity"],
            "candidate": ["logistic", "none"],
            "model_format": [MODEL_FORMAT, MODEL_FORMAT],
        }
    )
    published = {"churn": "logistic", "purchase_propensity": None}
    assert stale_scoring_models(stored, published) is None
    assert stale_scoring_models(
        stored, {**published, "churn": "gradient_boosting"}
    ) == (
        "the churn evaluation publishes gradient_boosting, the stored model is logistic"
    )
    older = stored.assign(model_format="skops 0.1, scikit-learn 1.0")
    assert stale_scoring_models(older, published) == (
        "the stored churn model was written by skops 0.1, scikit-learn 1.0, "
        f"this is {MODEL_FORMAT}"
    )
    assert stale_scoring_models(stored.iloc[:1], published) == (
        "no stored purchase_propensity model"
    )


def test_stored_models_load_one_at_a_time(monkeypatch):
    # skops parses array headers with ast, which CPython 3.11 does not make
    # safe across threads: two models loading at once must not overlap.
    from crm_analytics.ml import propensity

    blob = dump_model(
        fit_propensity(snapshot(500, 1), churn_label, 1, candidate="logistic")
    )
    real_loads = propensity.skops.io.loads
    active, most = [0], [0]

    def watched_loads(*args, **kwargs):
        active[0] += 1
        most[0] = max(most[0], active[0])
        time.sleep(0.05)
        try:
            return real_loads(*args, **kwargs)
        finally:
            active[0] -= 1

    monkeypatch.setattr(propensity.skops.io, "loads", watched_loads)
    threads = [threading.Thread(target=load_model, args=(blob,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
