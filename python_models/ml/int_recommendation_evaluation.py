"""Recommendations judged on a time split: trained on purchases up to
as_of_date - var recommendation_holdout_days, scored against the new
products customers bought after it, beside a popularity baseline. One row
per metric. The split's line counts come from
int_customer_product_purchases. Logic: crm_analytics.ml.recommend."""

from crm_analytics.ml import metrics_frame, one_thread
from crm_analytics.ml.recommend import evaluate_split


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    counts = (
        dbt.ref("int_customer_product_purchases")
        .project(
            "customer_id, product_id, count_lines_before_holdout, "
            "count_lines_in_holdout"
        )
        .df()
    )
    return metrics_frame(evaluate_split(counts, k=int(dbt.config.get("top_k"))))
