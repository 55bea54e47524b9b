"""lifetimes' MBG/NBD and Pareto/NBD on the CDNOW sample (run in bench/.venv-ref).

The reference figures behind the constants of tests/python/test_clv.py:
ModifiedBetaGeoFitter and ParetoNBDFitter fitted on
tests/python/data/cdnow/cdnow_customers_summary.csv (weeks, calibration
through 1997-09-30), with tolerances tightened so that the optimiser, not
its stopping rule, decides the digits (lifetimes' defaults: 1e-7 for
MBG/NBD, Nelder-Mead at 1e-4 for Pareto/NBD), and with the start values
fixed (lifetimes' Pareto/NBD starts at random). Prints JSON: parameters,
log-likelihood, P(alive) and expected purchases in 39 weeks of the first
five customers.

    bench/.venv-ref/bin/python bench/ref_clv_models.py [--compare]

With --compare it also imports crm_analytics (from src/) and prints the
largest relative parameter difference per model.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter, ParetoNBDFitter
from lifetimes.utils import ConvergenceError

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT / "tests" / "python" / "data" / "cdnow" / "cdnow_customers_summary.csv"


def tightest(fitter_class, x, tx, t):
    """The fit at the smallest tolerance that converges (BFGS on
    autograd's gradient reports 'precision loss' below about 1e-9)."""
    for tol in (1e-10, 1e-9, 1e-8, 1e-7):
        try:
            fitter = fitter_class().fit(x, tx, t, tol=tol)
        except ConvergenceError:
            continue
        fitter.tol_used = tol
        return fitter
    raise RuntimeError(f"{fitter_class.__name__} did not converge")


def reference() -> dict:
    summary = pd.read_csv(CDNOW)
    x, tx, t = summary["frequency"], summary["recency"], summary["T"]
    fitters = {
        "bgnbd": tightest(BetaGeoFitter, x, tx, t),
        "mbgnbd": tightest(ModifiedBetaGeoFitter, x, tx, t),
        "pareto_nbd": ParetoNBDFitter().fit(
            x,
            tx,
            t,
            tol=1e-12,
            initial_params=np.array([0.5, 10.0, 0.5, 10.0]),
            maxiter=20000,
        ),
    }
    head = summary.head(5)
    out = {}
    for name, fitter in fitters.items():
        out[name] = {
            "params": {k: float(v) for k, v in fitter.params_.items()},
            "tol": getattr(fitter, "tol_used", 1e-12),
            "p_alive_first_5": [
                float(v)
                for v in fitter.conditional_probability_alive(
                    head["frequency"], head["recency"], head["T"]
                )
            ],
            "expected_39_weeks_first_5": [
                float(v)
                for v in fitter.conditional_expected_number_of_purchases_up_to_time(
                    39, head["frequency"], head["recency"], head["T"]
                )
            ],
        }
    return out


def compare(ref: dict) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from crm_analytics.ml import clv

    summary = pd.read_csv(CDNOW)
    args = (summary["frequency"], summary["recency"], summary["T"], 7)
    ours = {
        "bgnbd": clv.fit_bgnbd(*args),
        "mbgnbd": clv.fit_mbgnbd(*args),
        "pareto_nbd": clv.fit_pareto_nbd(*args),
    }
    names = {
        "bgnbd": ("r", "alpha", "a", "b"),
        "mbgnbd": ("r", "alpha", "a", "b"),
        "pareto_nbd": ("r", "alpha", "s", "beta"),
    }
    return {
        model: {
            "ours": {k: getattr(ours[model], k) for k in keys},
            "max_rel_param_diff": max(
                abs(getattr(ours[model], k) / ref[model]["params"][k] - 1) for k in keys
            ),
        }
        for model, keys in names.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    # lifetimes prints the optimiser's report of a failed try on stdout
    with contextlib.redirect_stdout(sys.stderr):
        ref = reference()
    result = {"lifetimes": ref}
    if args.compare:
        result["compare"] = compare(ref)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
