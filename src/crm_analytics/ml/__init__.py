"""Fitting and scoring functions behind the dbt Python models."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pandas as pd

# dbt runs two Python models at once, in two threads of one process, and
# each imports scikit-learn and scipy on first use. Two threads importing
# them at once can fail ("cannot import name 'BaseLibSVM' from partially
# initialized module 'sklearn.svm._base'", seen in CI). Every model imports
# this package first, and Python lets one thread at a time run its body, so
# importing them here finishes them before any model goes on.
import scipy.optimize  # noqa: E402, F401
import scipy.sparse  # noqa: E402, F401
import scipy.special  # noqa: E402, F401
import scipy.stats  # noqa: E402, F401
import sklearn.base  # noqa: E402, F401
import sklearn.calibration  # noqa: E402, F401
import sklearn.cluster  # noqa: E402, F401
import sklearn.ensemble  # noqa: E402, F401
import sklearn.frozen  # noqa: E402, F401
import sklearn.impute  # noqa: E402, F401
import sklearn.linear_model  # noqa: E402, F401
import sklearn.metrics  # noqa: E402, F401
import sklearn.model_selection  # noqa: E402, F401
import sklearn.pipeline  # noqa: E402, F401
import sklearn.preprocessing  # noqa: E402, F401
from threadpoolctl import threadpool_limits

METRIC_COLUMNS: dict[str, str] = {"metric_name": "str", "metric_value": "float64"}


def metrics_frame(metrics: list[tuple[str, float]]) -> pd.DataFrame:
    """Evaluation metric tuples as the (metric_name, metric_value) frame that
    every evaluation model stores for fct_ml_model_metrics."""
    return pd.DataFrame(metrics, columns=list(METRIC_COLUMNS)).astype(METRIC_COLUMNS)


def is_in(values: pd.Series, candidates: pd.Series) -> np.ndarray:
    """``values.isin(candidates)`` as a boolean array, fast for any dtype.

    pandas 3's ``isin`` on Arrow-backed strings is slow against a long
    candidate column (0.5M random ids against 8M: 60.6 s, this 2.2 s):
    both columns are factorized together and the integer codes compared
    instead. A missing value is in ``candidates``
    when a missing value is, as with ``isin``.
    """
    codes, _ = pd.factorize(pd.concat([values, candidates], ignore_index=True))
    return np.isin(codes[: len(values)], codes[len(values) :])


Model = TypeVar("Model", bound=Callable)


def one_thread(model: Model) -> Model:
    """Run a dbt Python model with OpenMP and BLAS limited to one thread.

    dbt runs two models at once (profile ``threads: 2``) next to DuckDB's
    own threads, on two cores. scikit-learn's OpenMP loops (gradient
    boosting, k-means) then wait for threads that are not running: two
    churn models side by side took 19 s and 17 s with two OpenMP threads
    each, 9 s and 5 s with one (100k customers).
    """

    @functools.wraps(model)
    def limited(*args, **kwargs):
        with threadpool_limits(limits=1):
            return model(*args, **kwargs)

    return limited


def warn_in_build(message: str) -> None:
    """One warning line in the dbt build's output (and logs/dbt.log).

    dbt-duckdb runs Python models inside dbt's process, so dbt's own event
    logger prints it, as ``[WARNING]: message``, at warning level; outside
    dbt (no dbt command loaded) the line goes to stderr."""
    if "dbt.cli.main" in sys.modules:
        from dbt.events.types import JinjaLogWarning
        from dbt_common.events.functions import fire_event
        from dbt_common.ui import warning_tag

        fire_event(JinjaLogWarning(msg=warning_tag(message)))
    else:
        print(f"[WARNING]: {message}", file=sys.stderr, flush=True)
