"""The refit schedule: when a stored ML fit is kept and when it is refitted
(crm_analytics.ml.schedule). The digests themselves, and the models that
use the schedule, are checked end to end in test_incremental.py."""

from __future__ import annotations

import datetime

import duckdb
import pandas as pd
import pytest

from crm_analytics.ml.schedule import (
    FIT_COLUMNS,
    on_schedule,
    refit_reason,
    with_fit_columns,
)

CONTEXT = {
    "as_of_date": pd.Timestamp("2024-06-30"),
    "model_refit_days": 7,
    "settings_digest": "s1",
    "raw_history_digest": "r1",
}


def stored_fit(fitted_as_of: str = "2024-06-28", **changes: str) -> pd.DataFrame:
    fit = pd.DataFrame(
        {"model_name": ["churn", "churn"], "metric_name": ["auc", "fitted"]}
    )
    context = {**CONTEXT, "as_of_date": pd.Timestamp(fitted_as_of), **changes}
    return with_fit_columns(fit, context)


def test_a_fit_younger_than_the_schedule_is_kept() -> None:
    assert refit_reason(stored_fit("2024-06-24"), CONTEXT) is None
    assert refit_reason(stored_fit("2024-06-30"), CONTEXT) is None


def test_a_fit_as_old_as_the_schedule_is_refitted() -> None:
    assert refit_reason(stored_fit("2024-06-23"), CONTEXT) == (
        "the stored fit, as of 2024-06-23, is 7 days old (model_refit_days: 7)"
    )


def test_zero_days_refits_on_every_run() -> None:
    context = {**CONTEXT, "model_refit_days": 0}
    assert "0 days old" in refit_reason(stored_fit("2024-06-30"), context)


def test_an_as_of_date_before_the_fit_refits() -> None:
    assert refit_reason(stored_fit("2024-07-01"), CONTEXT) == (
        "as_of_date 2024-06-30 is before the stored fit's (2024-07-01)"
    )


def test_changed_settings_or_a_reloaded_history_refit() -> None:
    assert refit_reason(stored_fit(settings_digest="s0"), CONTEXT) == (
        "a setting changed since the stored fit"
    )
    assert refit_reason(stored_fit(raw_history_digest="r0"), CONTEXT) == (
        "raw data was reloaded since the stored fit"
    )


def test_nothing_stored_or_a_fit_of_an_earlier_version_refits() -> None:
    assert refit_reason(None, CONTEXT).startswith("no stored fit")
    earlier = stored_fit().drop(columns=["fitted_as_of"])
    assert "earlier version" in refit_reason(earlier, CONTEXT)
    assert refit_reason(stored_fit().head(0), CONTEXT) == "the stored fit is empty"
    mixed = pd.concat([stored_fit(), stored_fit("2024-06-29")])
    assert refit_reason(mixed, CONTEXT) == "the stored rows come from more than one fit"


@pytest.mark.parametrize(
    "as_of",
    [
        pd.Timestamp("2024-06-30"),
        datetime.date(2024, 6, 30),
        "2024-06-30",
        pd.Timestamp("2024-06-30 13:45"),
    ],
)
def test_the_dates_compare_whatever_their_type(as_of) -> None:
    assert (
        refit_reason(stored_fit("2024-06-28"), {**CONTEXT, "as_of_date": as_of}) is None
    )


def test_the_fit_columns_land_as_a_date_and_text_and_read_back_as_kept() -> None:
    fit = stored_fit("2024-06-28")
    assert list(fit.columns[-3:]) == list(FIT_COLUMNS)
    with duckdb.connect() as connection:
        connection.register("fit", fit)
        types = dict(
            connection.execute(
                "select column_name, column_type from (describe fit)"
            ).fetchall()
        )
        back = connection.sql("select * from fit").df()
    assert types["fitted_as_of"] == "DATE"
    assert types["settings_digest"] == "VARCHAR"
    # what the next run reads from the table (a DATE as a pandas timestamp)
    # is still the same fit
    assert refit_reason(back, CONTEXT) is None
    assert back.astype(FIT_COLUMNS)["fitted_as_of"].iloc[0] == datetime.date(
        2024, 6, 28
    )


class FakeDbt:
    """What on_schedule reads of a dbt Python model's ``dbt`` object."""

    this = "fits"
    is_incremental = True


def test_a_kept_fit_that_is_stale_is_fitted_again(capsys) -> None:
    with duckdb.connect() as session:
        kept = stored_fit("2024-06-28").assign(candidate="logistic")
        session.register("stored", kept)
        session.execute("create table fits as select * from stored")
        context = session.sql(
            "select date '2024-06-30' as as_of_date, 7 as model_refit_days, "
            "'s1' as settings_digest, 'r1' as raw_history_digest"
        )
        fresh = pd.DataFrame({"model_name": ["churn"], "candidate": ["ease"]})

        def stale(stored: pd.DataFrame) -> str | None:
            if (stored["candidate"] == "logistic").all():
                return None
            return "another candidate is published"

        same = on_schedule(FakeDbt(), session, context, lambda: fresh, stale)
        assert list(same["candidate"]) == ["logistic", "logistic"]
        assert "fits: kept the fit as of 2024-06-28" in capsys.readouterr().err

        refitted = on_schedule(
            FakeDbt(), session, context, lambda: fresh, lambda _: "it no longer fits"
        )
        assert list(refitted["candidate"]) == ["ease"]
        assert refitted["fitted_as_of"].iloc[0] == datetime.date(2024, 6, 30)
        assert "fits: fitted (it no longer fits)" in capsys.readouterr().err
        # the stored rows are deleted: the new fit replaces all of them
        assert session.sql("select count(*) from fits").fetchone() == (0,)
