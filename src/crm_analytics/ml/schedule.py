"""The refit schedule: a fit is kept in its table and reused until it is due.

The models that fit (:data:`SCHEDULED_MODELS`: ``int_clv_parameters``,
``int_segment_model``, the candidate evaluations of churn, purchase
propensity and recommendations, and ``int_propensity_models``, the fitted
churn and purchase models) are incremental: each run reads the fit stored
in the model's own table and keeps it, unless :func:`refit_reason` finds a
reason to fit again. The scoring models read the table as before, so a run
that keeps the fits scores every customer of today's data with the stored
fit.

What decides is one row of ``int_model_fit_context``: this run's
``as_of_date``, the setting ``model_refit_days`` and two digests, of the
settings a fit depends on and of the raw load's history. Each fit's rows
carry the date and digests of the run that made it (:data:`FIT_COLUMNS`).
The fits are parameters and figures in tables, and the fitted churn and
purchase models are in skops's format, which loads only allowed types:
nothing that is loaded can run code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping

import pandas as pd

from crm_analytics.frames import read_frame

SCHEDULED_MODELS: tuple[str, ...] = (
    "int_clv_parameters",
    "int_segment_model",
    "int_churn_evaluation",
    "int_purchase_propensity_evaluation",
    "int_recommendation_evaluation",
    "int_propensity_models",
)
"""The models that fit on the schedule (each calls :func:`on_schedule`)."""

FIT_COLUMNS: dict[str, str] = {
    "fitted_as_of": "date32[pyarrow]",
    "settings_digest": "str",
    "raw_history_digest": "str",
}
"""The columns every fit row carries: the run that made it."""


def _date(value: object) -> pd.Timestamp | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).normalize()


def refit_reason(
    stored: pd.DataFrame | None, context: Mapping[str, object]
) -> str | None:
    """Why this run must fit again, or None when the stored fit is kept.

    ``stored`` is the model's table from the last run (None on a full
    refresh or the first build), ``context`` the one row of
    int_model_fit_context. A stored fit is kept while its ``fitted_as_of``
    is at most ``model_refit_days - 1`` days before this run's
    ``as_of_date`` (and not after it), and the settings and the raw load's
    history are those it was fitted on."""
    if stored is None:
        return "no stored fit (first build or --full-refresh)"
    missing = [column for column in FIT_COLUMNS if column not in stored.columns]
    if missing:
        return "the stored fit was made by an earlier version (no " + missing[0] + ")"
    if stored.empty:
        return "the stored fit is empty"
    fits = stored[list(FIT_COLUMNS)].drop_duplicates()
    if len(fits) != 1:
        return "the stored rows come from more than one fit"
    fit = fits.iloc[0]
    fitted_as_of = _date(fit["fitted_as_of"])
    as_of = _date(context["as_of_date"])
    refit_days = int(context["model_refit_days"])
    if fitted_as_of is None or as_of is None:
        return "no as-of date to compare"
    if as_of < fitted_as_of:
        return (
            f"as_of_date {as_of.date()} is before the stored fit's "
            f"({fitted_as_of.date()})"
        )
    age = (as_of - fitted_as_of).days
    if age >= refit_days:
        return (
            f"the stored fit, as of {fitted_as_of.date()}, is {age} days old "
            f"(model_refit_days: {refit_days})"
        )
    if fit["settings_digest"] != context["settings_digest"]:
        return "a setting changed since the stored fit"
    if fit["raw_history_digest"] != context["raw_history_digest"]:
        return "raw data was reloaded since the stored fit"
    return None


def with_fit_columns(
    fitted: pd.DataFrame, context: Mapping[str, object]
) -> pd.DataFrame:
    """The new fit's rows, each with the run that made it."""
    fitted = fitted.copy()
    for column, dtype in FIT_COLUMNS.items():
        source = "as_of_date" if column == "fitted_as_of" else column
        value = context[source]
        if column == "fitted_as_of":
            value = _date(value).date()
        fitted[column] = pd.Series(
            [value] * len(fitted), index=fitted.index, dtype=dtype
        )
    return fitted


def note_in_build(message: str) -> None:
    """One information line in the dbt build's output (as warn_in_build,
    at info level)."""
    if "dbt.cli.main" in sys.modules:
        from dbt.events.types import JinjaLogInfo
        from dbt_common.events.functions import fire_event

        fire_event(JinjaLogInfo(msg=message))
    else:
        print(message, file=sys.stderr, flush=True)


def on_schedule(
    dbt,
    session,
    context,
    fit: Callable[[], pd.DataFrame],
    stale: Callable[[pd.DataFrame], str | None] | None = None,
) -> pd.DataFrame:
    """The body of a scheduled fit model: the stored fit when it is kept,
    else ``fit()`` with the fit columns. Prints one line saying which, and
    why. ``context`` is the model's ``dbt.ref("int_model_fit_context")``
    (dbt sees a ref only in the model's own source). ``stale``, when
    given, says why a stored fit the schedule would keep cannot be used
    (it no longer matches what it was fitted from), or None.

    The model calls ``dbt.config(materialized="incremental")`` (dbt
    ignores a folder's materialization for a Python model) and lives in
    ``models/intermediate/ml/fits/``, whose config in dbt_project.yml adds
    ``delete+insert`` on ``unique_key`` ``model_name`` (every fit writes
    every model_name of its table, 'fitted' = 0 rows included, so each run
    replaces all the rows) and ``on_schema_change: append_new_columns``.
    As a table it would fit on every run."""
    context = read_frame(context).iloc[0].to_dict()
    stored = (
        read_frame(session.sql(f"select * from {dbt.this}"))
        if dbt.is_incremental
        else None
    )
    name = dbt.this.identifier if hasattr(dbt.this, "identifier") else str(dbt.this)
    reason = refit_reason(stored, context)
    if reason is None and stale is not None:
        reason = stale(stored)
    if reason is None:
        fitted_as_of = _date(stored["fitted_as_of"].iloc[0])
        note_in_build(
            f"{name}: kept the fit as of {fitted_as_of.date()} "
            f"(refit every {int(context['model_refit_days'])} days)"
        )
        # written back as read (a DATE reads as a pandas timestamp)
        return stored.astype(FIT_COLUMNS)
    note_in_build(f"{name}: fitted ({reason})")
    fitted = fit()
    if stored is not None:
        # the new fit replaces every stored row, those of a model_name it no
        # longer writes and those of an earlier version (no model_name) too
        session.execute(f"delete from {dbt.this}")
    if "model_name" not in fitted.columns:
        raise ValueError(f"{name}: a scheduled fit needs a model_name column")
    return with_fit_columns(fitted, context)


__all__ = [
    "FIT_COLUMNS",
    "SCHEDULED_MODELS",
    "note_in_build",
    "on_schedule",
    "refit_reason",
    "with_fit_columns",
]
