"""BG/NBD fit time, ours against lifetimes, on simulated customers.

    python bench/bgnbd_fit.py [--sizes 100000,1000000] [--repeat 3]

The benchmark (bench/run.py) compares the fits on the generated data after a
full build; this runs the fits alone, in seconds, at any size: customers are
drawn from a BG/NBD with planted parameters (close to what the generated
data fits: r 1.06, alpha 52 days, a 0.196, b 6.42; T uniform over 30-999
days, whole days as in dim_customer_rfm), then each library fits the same
(frequency, recency, T) in its own process (lifetimes in bench/.venv-ref,
made by bench/run.py) under one BLAS thread. Reports the best wall and CPU
seconds of --repeat fits, the ratio, and each fit's parameters against the
planted ones. Prints a markdown table; ``--json`` also writes the figures
(bench/run.py runs this and puts them on the benchmark page).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

BENCH = Path(__file__).resolve().parent
PLANTED = {"r": 1.06, "alpha": 52.0, "a": 0.196, "b": 6.42}

FIT = """
import json, sys, time
import pandas as pd
rfm = pd.read_parquet(sys.argv[1])
runs = []
for _ in range(int(sys.argv[2])):
    wall, cpu = time.perf_counter(), time.process_time()
    if sys.argv[3] == "ours":
        from crm_analytics.ml.clv import fit_bgnbd
        fit = fit_bgnbd(rfm.frequency, rfm.recency, rfm.t, 1.0)
        params = {k: getattr(fit, k) for k in ("r", "alpha", "a", "b")}
    else:
        from lifetimes import BetaGeoFitter
        fitter = BetaGeoFitter(penalizer_coef=0.0)
        fitter.fit(rfm.frequency, rfm.recency, rfm.t)
        params = {k: float(v) for k, v in fitter.params_.items()}
    runs.append((time.perf_counter() - wall, time.process_time() - cpu))
print(json.dumps({"wall": min(w for w, _ in runs), "cpu": min(c for _, c in runs),
                  "params": params}))
"""


def simulate(customers: int, seed: int) -> pd.DataFrame:
    """(frequency, recency, T) in days from a BG/NBD with PLANTED parameters:
    purchases at Poisson rate lambda ~ Gamma(r, alpha) while alive, dropout
    with probability p ~ Beta(a, b) after each purchase."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(PLANTED["r"], 1 / PLANTED["alpha"], customers)
    dropout = rng.beta(PLANTED["a"], PLANTED["b"], customers)
    horizon = rng.integers(30, 1000, customers).astype(float)
    frequency, last, clock = (np.zeros(customers) for _ in range(3))
    alive = np.ones(customers, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        clock[idx] += rng.exponential(1 / rate[idx])
        late = clock[idx] > horizon[idx]
        alive[idx[late]] = False
        bought = idx[~late]
        frequency[bought] += 1
        last[bought] = np.floor(clock[bought])
        alive[bought[rng.random(bought.size) < dropout[bought]]] = False
    return pd.DataFrame({"frequency": frequency, "recency": last, "t": horizon})


def fit(python: Path, rfm: Path, repeat: int, which: str) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [str(python), "-c", FIT, str(rfm), str(repeat), which],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{which} fit failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare(ours: dict, theirs: dict) -> dict:
    """The ratios of two fits' best times (lifetimes / ours) and the largest
    relative difference between their parameters."""
    return {
        "cpu_ratio": round(theirs["cpu"] / ours["cpu"], 2),
        "wall_ratio": round(theirs["wall"] / ours["wall"], 2),
        "max_rel_param_diff": max(
            abs(ours["params"][k] / theirs["params"][k] - 1) for k in PLANTED
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="write the figures")
    args = parser.parse_args()
    ref_python = BENCH / ".venv-ref" / "bin" / "python"
    if not ref_python.exists():
        raise SystemExit(f"{ref_python} is missing: run bench/run.py once")
    print("| customers | distinct (x, t_x, T) | ours: wall / CPU | lifetimes: "
          "wall / CPU | CPU ratio | largest parameter difference | "
          "ours vs planted |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---|")
    report: dict = {
        "planted": PLANTED,
        "repeat": args.repeat,
        "seed": args.seed,
        "blas_threads": 1,
        "sizes": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"simulating {size:,} customers", file=sys.stderr)
            rfm = simulate(size, args.seed)
            path = Path(tmp) / f"rfm-{size}.parquet"
            rfm.to_parquet(path)
            ours = fit(Path(sys.executable), path, args.repeat, "ours")
            theirs = fit(ref_python, path, args.repeat, "lifetimes")
            figures = compare(ours, theirs)
            distinct = len(rfm.value_counts())
            report["sizes"][str(size)] = {
                "customers": size,
                "distinct": distinct,
                "ours": ours,
                "lifetimes": theirs,
                **figures,
            }
            if args.json:
                args.json.write_text(json.dumps(report, indent=2) + "\n")
            planted = ", ".join(
                f"{k} {ours['params'][k]:.3g} ({v})" for k, v in PLANTED.items()
            )
            print(
                f"| {size:,} | {distinct:,} "
                f"| {ours['wall']:.2f} / {ours['cpu']:.2f} s "
                f"| {theirs['wall']:.2f} / {theirs['cpu']:.2f} s "
                f"| {figures['cpu_ratio']:.1f}x "
                f"| {figures['max_rel_param_diff']:.1e} | {planted} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
