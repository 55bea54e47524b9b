"""The MetricFlow semantic layer validates and its metrics equal the marts
that compute the same numbers in SQL (fct_kpi_monthly)."""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest
from helpers import BIN_DIR, Warehouse

from crm_analytics.contract import PROJECT_DIR
from crm_analytics.settings import dbt_environment

pytestmark = pytest.mark.e2e


def mf(warehouse: Warehouse, *args: str) -> subprocess.CompletedProcess:
    env = dbt_environment(
        raw_dir=warehouse.data_dir / "raw",
        build_path=warehouse.path,
        profiles_dir=PROJECT_DIR / "profiles",
    )
    # mf reads the project's target/: parse against this warehouse first
    # (relation names carry the DuckDB file's name)
    parsed = subprocess.run(
        [str(BIN_DIR / "dbt"), "parse", "--no-partial-parse"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert parsed.returncode == 0, parsed.stdout[-3000:]
    result = subprocess.run(
        [str(BIN_DIR / "mf"), *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_semantic_layer_validates_against_the_warehouse(demo_warehouse: Warehouse):
    output = mf(demo_warehouse, "validate-configs").stdout
    assert "ERRORS: 0" in output


def test_metrics_equal_the_monthly_kpi_mart(demo_warehouse: Warehouse, tmp_path):
    csv = tmp_path / "metrics.csv"
    mf(
        demo_warehouse,
        "query",
        "--metrics",
        "net_revenue,orders,average_order_value,nps,churn_rate",
        "--group-by",
        "metric_time__month",
        "--csv",
        str(csv),
    )
    metrics = pd.read_csv(csv, parse_dates=["metric_time__month"])
    kpis = demo_warehouse.query(
        "select kpi_month, sum_net_revenue, count_orders, avg_order_value, nps, "
        "count_churned_customers / count_active_customers as churn_rate "
        "from marts.fct_kpi_monthly where count_orders > 0"
    )
    joined = kpis.merge(
        metrics,
        left_on=pd.to_datetime(kpis["kpi_month"]),
        right_on="metric_time__month",
    )
    assert len(joined) == len(kpis) > 12
    for ours, theirs in [
        ("sum_net_revenue", "net_revenue"),
        ("count_orders", "orders"),
        ("avg_order_value", "average_order_value"),
        ("churn_rate_x", "churn_rate_y"),
    ]:
        assert joined[ours].astype(float).to_numpy() == pytest.approx(
            joined[theirs].astype(float).to_numpy(), abs=0.01
        ), ours
    with_nps = joined.dropna(subset=["nps_x"])
    assert with_nps["nps_x"].to_numpy() == pytest.approx(
        with_nps["nps_y"].to_numpy(), abs=0.01
    )
