"""Fitting and scoring functions behind the dbt Python models."""

from __future__ import annotations

import pandas as pd

METRIC_COLUMNS: dict[str, str] = {"metric_name": "str", "metric_value": "float64"}


def metrics_frame(metrics: list[tuple[str, float]]) -> pd.DataFrame:
    """Evaluation metric tuples as the (metric_name, metric_value) frame that
    every evaluation model stores for fct_ml_model_metrics."""
    return pd.DataFrame(metrics, columns=list(METRIC_COLUMNS)).astype(METRIC_COLUMNS)
