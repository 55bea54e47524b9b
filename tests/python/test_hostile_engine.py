"""Hostile engine states: what DuckDB leaves beside a file, and values at
the edge of its types, must not stop a publish or a build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from crm_analytics.contract import PROJECT_DIR
from crm_analytics.ml.clv import (
    PURCHASE_MODELS,
    BetaGeoFit,
    degenerate_reason,
    fit_bgnbd,
    fit_clv_parameters,
    not_fitted_reason,
    not_fitted_warning,
    score_clv,
)
from crm_analytics.publish import publish
from crm_analytics.settings import dbt_environment


def fake_build(path: Path, rows: int) -> Path:
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema marts")
        connection.execute(
            f"create table marts.t as select range as x from range({rows})"
        )
    return path


def leave_stale_wal(path: Path) -> Path:
    """A read-write client writes to ``path`` and dies without a
    checkpoint: its WAL stays beside the file."""
    script = (
        "import duckdb, os, sys; "
        "c = duckdb.connect(sys.argv[1]); "
        "c.execute(\"set checkpoint_threshold = '10GB'\"); "
        "c.execute('create table marts.stale as select range as y from range(5)'); "
        "os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True)
    wal = Path(f"{path}.wal")
    assert wal.exists() and wal.stat().st_size > 0
    return wal


def read_only_count(path: Path) -> int:
    """marts.t rows seen by a new read-only reader in another process."""
    script = (
        "import duckdb, sys; "
        "c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(c.execute('select count(*) from marts.t').fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return int(out.stdout)


def test_a_stale_wal_beside_the_serving_file_does_not_break_the_next_publish(
    tmp_path: Path,
) -> None:
    serving = tmp_path / "crm.duckdb"
    publish(fake_build(tmp_path / "b1.duckdb", 3), serving)
    wal = leave_stale_wal(serving)
    publish(fake_build(tmp_path / "b2.duckdb", 7), serving)
    assert read_only_count(serving) == 7
    assert not wal.exists()
    # Nothing but the serving file is left beside it.
    assert sorted(p.name for p in tmp_path.iterdir() if "crm" in p.name) == [
        "crm.duckdb"
    ]


# --- CLV on buyers who all buy at the same rate -------------------------------


def similar_rate_rfm(customers: int, orders: int, seed: int = 0) -> pd.DataFrame:
    """dim_customer_rfm of ``customers`` buyers who each buy on
    ``orders / customers`` random distinct days of one year: no spread in
    purchase rates and no dropout, the shape that sent BG/NBD's r to 1e12."""
    rng = np.random.default_rng(seed)
    per = orders // customers
    rows = []
    for number in range(customers):
        days = np.sort(rng.choice(365, per, replace=False))
        rows.append(
            {
                "customer_id": f"C{number:05d}",
                "frequency": per - 1,
                "recency": float(days[-1] - days[0]),
                "t": float(365 - days[0]),
                "monetary_value": 50 + 10 * rng.random(),
                "rfm_time_unit": "day",
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("customers, orders", [(60, 300), (1000, 3000)])
def test_clv_on_similar_rates_is_not_fitted_with_the_reason(customers, orders):
    rfm = similar_rate_rfm(customers, orders)
    parameters = fit_clv_parameters(rfm)
    reason = not_fitted_reason(parameters)
    assert reason is not None, parameters[parameters["metric_name"] == "fitted"]
    assert reason.startswith("no purchase model could be fitted: ")
    for candidate in PURCHASE_MODELS:
        assert f"{candidate}: " in reason
    assert "purchase rates" in reason
    # every candidate's 'fitted' row is 0, none is published as fitted
    fitted = parameters[parameters["metric_name"] == "fitted"]
    assert (fitted["value"] == 0.0).all()
    assert not_fitted_warning(parameters).startswith(
        "WARNING clv: not fitted (no purchase model could be fitted: "
    )
    scored = score_clv(rfm, parameters, 12, 0.01)
    assert scored.empty


def test_a_degenerate_candidate_is_not_chosen_a_sound_one_is():
    """Buyers with a spread of rates: BG/NBD fits; its degenerate twin, one
    whose r and alpha ran away, is refused by the check."""
    rng = np.random.default_rng(3)
    rates = rng.gamma(0.8, 1 / 40, size=800)  # purchases per day
    rows = []
    for number, rate in enumerate(rates):
        first = rng.uniform(0, 300)
        times = first + np.cumsum(rng.exponential(1 / rate, size=50))
        times = np.floor(times[times < 365])
        x = len(np.unique(times))
        rows.append(
            (
                f"C{number}",
                float(x),
                float(times.max() - np.floor(first)) if x else 0.0,
                365 - np.floor(first),
            )
        )
    frequency, recency, t = (np.array([r[i] for r in rows]) for i in (1, 2, 3))
    fit = fit_bgnbd(frequency, recency, t, 1.0)
    assert degenerate_reason(fit, frequency, recency, t) is None
    runaway = BetaGeoFit(
        4.5e12,
        4.5e12 * fit.alpha / fit.r,
        fit.a,
        fit.b,
        fit.log_likelihood,
        1.0,
        fit.n_customers,
    )
    reason = degenerate_reason(runaway, frequency, recency, t)
    assert reason is not None and "r ran away to 4.5e+12" in reason


@pytest.mark.e2e
def test_similar_rate_transactions_publish_with_clv_not_fitted(tmp_path: Path):
    """A clean transactions.csv where every buyer buys 5 times a year: the
    build and the publish succeed, CLV says why it is not fitted (one
    WARNING line) and the other marts are published."""
    rng = np.random.default_rng(1)
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = ["customer_id,transacted_at,amount"]
    for number in range(60):
        for day in sorted(rng.choice(365, 5, replace=False)):
            date = np.datetime64("2024-01-01") + int(day)
            lines.append(f"S{number:03d},{date},{20 + int(rng.integers(0, 60))}.00")
    (raw / "transactions.csv").write_text("\n".join(lines) + "\n")
    work = tmp_path / "work"
    work.mkdir()
    env = dbt_environment(
        raw_dir=raw,
        temp_dir=work / "duckdb_tmp",
        target="dev",
        profiles_dir=PROJECT_DIR / "profiles",
        target_path=work / "target",
        log_path=work / "logs",
    )
    serving = work / "serving.duckdb"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crm_analytics.publish",
            "--build-path",
            str(work / "build.duckdb"),
            "--serving-path",
            str(serving),
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    warnings = [
        line for line in result.stdout.splitlines() if "WARNING clv: not fitted" in line
    ]
    assert len(warnings) == 1, result.stdout[-6000:]
    assert "no purchase model could be fitted" in warnings[0]
    with duckdb.connect(str(serving), read_only=True) as connection:
        fitted = connection.execute(
            "select metric_value, note from marts.fct_ml_model_metrics "
            "where model_name = 'clv_purchases' and metric_name = 'fitted' "
            "and is_published"
        ).fetchall()
        predictions = connection.execute(
            "select count(*) from marts.fct_customer_clv_predictions"
        ).fetchone()[0]
        customers = connection.execute(
            "select count(*) from marts.dim_customers"
        ).fetchone()[0]
    assert len(fitted) == 1 and fitted[0][0] == 0.0, fitted
    assert "no purchase model could be fitted" in fitted[0][1]
    assert predictions == 0
    assert customers == 60
