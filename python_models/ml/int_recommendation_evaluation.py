"""Recommendations judged on a time split: trained on purchases up to
as_of_date - var recommendation_holdout_days, scored against the new
products customers bought after it, beside a popularity baseline. One row
per metric. Logic: crm_analytics.ml.recommend."""

import pandas as pd

from crm_analytics.ml import metrics_frame, one_thread
from crm_analytics.ml.recommend import evaluate_recommendations


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    purchases = (
        dbt.ref("fct_order_items")
        .filter("is_completed")
        .project("customer_id, product_id, order_date")
        .df()
    )
    as_of_dates = dbt.ref("int_as_of_date").df()
    as_of = pd.Timestamp(as_of_dates["as_of_date"].iloc[0])
    split = as_of - pd.Timedelta(days=int(dbt.config.get("holdout_days")))
    top_k = int(dbt.config.get("top_k"))
    return metrics_frame(evaluate_recommendations(purchases, split, k=top_k))
