"""Top products per buyer from the candidate int_recommendation_evaluation
published, fitted on the completed purchases up to as_of_date (counted per
customer x product in int_customer_product_purchases), never a product the
customer returned. Empty, with one warning line in the build log, when the
evaluation found too little data to fit. Logic: crm_analytics.ml.recommend."""

from crm_analytics.frames import as_arrow, read_frame
from crm_analytics.ml import one_thread, warn_in_build
from crm_analytics.ml.recommend import (
    empty_recommendations,
    published_candidate,
    recommend_products,
)
from crm_analytics.settings import setting_value


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    evaluation = read_frame(dbt.ref("int_recommendation_evaluation"))
    candidate, ease_lambda, note = published_candidate(evaluation)
    if candidate is None:
        # through dbt's own logger, a whole line (tests/python/test_e2e_ml.py
        # reads it from the build's output)
        warn_in_build(f"WARNING recommendations not fitted: {note}")
        return as_arrow(empty_recommendations())
    purchases = read_frame(
        dbt.ref("int_customer_product_purchases").project(
            "customer_id, product_id, count_lines, count_returned_lines"
        )
    )
    recommendations = recommend_products(
        purchases,
        k=setting_value(
            "recommendation_top_k", dbt.config.meta_get("recommendation_top_k")
        ),
        candidate=candidate,
        ease_lambda=ease_lambda,
    )
    return as_arrow(recommendations)
