"""The helpers every dbt Python model shares: is_in and one_thread."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info

from crm_analytics.ml import is_in, one_thread


@pytest.mark.parametrize("dtype", ["str", "object", "int64", "float64"])
def test_is_in_matches_pandas_isin(dtype):
    rng = np.random.default_rng(3)
    values = pd.Series(rng.integers(0, 50, 400)).astype(dtype)
    candidates = pd.Series(rng.integers(25, 90, 300)).astype(dtype)
    expected = values.isin(candidates).to_numpy()
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(is_in(values, candidates), expected)


def test_is_in_treats_missing_as_pandas_does():
    values = pd.Series(["a", None, "b", "c"], dtype="str")
    assert is_in(values, pd.Series(["b"], dtype="str")).tolist() == [
        False,
        False,
        True,
        False,
    ]
    assert is_in(values, pd.Series([None, "a"], dtype="str")).tolist() == [
        True,
        True,
        False,
        False,
    ]
    assert is_in(values, pd.Series([], dtype="str")).tolist() == [False] * 4


def openmp_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info()
            if pool["user_api"] == "openmp"]  # fmt: skip


def test_one_thread_limits_openmp_inside_the_model_only():
    import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime)

    before = openmp_threads()
    assert before, "no OpenMP runtime loaded"
    if max(before) == 1:
        pytest.skip("OpenMP runs one thread here: a limit to one cannot be seen")

    @one_thread
    def model(dbt, session):
        """A model."""
        return openmp_threads(), dbt, session

    inside, dbt, session = model("dbt", session="session")
    assert inside == [1] * len(before)
    assert (dbt, session) == ("dbt", "session")
    assert model.__name__ == "model" and model.__doc__ == "A model."
    assert openmp_threads() == before
