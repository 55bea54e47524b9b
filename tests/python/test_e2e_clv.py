"""End to end: a shop where almost nobody buys twice. The CLV models are
not fitted; `make build` (crm_analytics.publish) stays green, prints one
warning line naming the model and the reason, fct_ml_model_metrics holds
the 'fitted' = 0 row with that reason, the predictions are empty and the
dashboard says why."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from helpers import build_fixture

from crm_analytics.contract import PROJECT_DIR
from crm_analytics.dashboard import queries
from crm_analytics.settings import dbt_environment

pytestmark = pytest.mark.e2e

REASON = "4 repeat buyers; at least 10 needed"


@build_fixture(scope="module")
def thin_build(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("thin_shop")
    raw = root / "raw"
    raw.mkdir()
    # 60 one-time buyers and 4 who came back once: 4 repeat buyers
    rows = [
        (f"C{i:03d}", f"2024-{1 + i % 12:02d}-{1 + i % 27:02d} 10:00:00", 10 + i)
        for i in range(60)
    ] + [
        (f"R{i}", day, 25.0)
        for i in range(4)
        for day in ("2024-02-03 09:00:00", "2024-05-06 09:00:00")
    ]
    pd.DataFrame(rows, columns=["customer_id", "transacted_at", "amount"]).to_csv(
        raw / "transactions.csv", index=False
    )
    serving = root / "serving.duckdb"
    env = dbt_environment(
        raw_dir=raw,
        serving_path=serving,
        temp_dir=root / "duckdb_tmp",
        target_path=root / "target",
        log_path=root / "logs",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crm_analytics.publish",
            "--build-path",
            str(root / "build.duckdb"),
            "--serving-path",
            str(serving),
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result, serving


def test_the_build_log_has_one_warning_line_with_the_reason(thin_build):
    result, _ = thin_build
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    lines = [line for line in plain.splitlines() if "WARNING clv" in line]
    # dbt's logger prints it as one whole line: `<time>  [WARNING]: <message>`
    assert len(lines) == 1, result.stdout[-3000:]
    assert lines[0].endswith(
        f"[WARNING]: WARNING clv: not fitted ({REASON}); "
        "fct_customer_clv_predictions is empty"
    ), lines


def test_metrics_say_not_fitted_and_predictions_are_empty(thin_build):
    _, serving = thin_build
    with duckdb.connect(str(serving), read_only=True) as connection:
        fitted = connection.sql(
            "select model_name, candidate, metric_value, is_published, note "
            "from marts.fct_ml_model_metrics "
            "where model_name like 'clv%' order by 1"
        ).df()
        predictions = connection.sql(
            "select count(*) from marts.fct_customer_clv_predictions"
        ).fetchone()[0]
        customers = connection.sql(
            "select count(*), count(p_alive) from marts.dim_customers"
        ).fetchone()
    assert fitted.to_dict("records") == [
        {
            "model_name": "clv_purchases",
            "candidate": "bgnbd",
            "metric_value": 0.0,
            "is_published": True,
            "note": REASON,
        },
        {
            "model_name": "clv_spend",
            "candidate": "gamma_gamma",
            "metric_value": 0.0,
            "is_published": True,
            "note": REASON,
        },
    ]
    assert predictions == 0
    assert customers == (64, 0)
    status = queries.clv_model_status(Path(serving))
    assert status["fitted"] is False and status["fitted_note"] == REASON
