"""Recommendation candidates (popularity, item_cosine, ease) judged on a time
split: fitted on purchases up to as_of_date - var
recommendation_holdout_days, scored against the products customers bought
after it; EASE's lambda chosen on the validation split before it. One row
per candidate x metric; the candidate with the highest test hit rate is
published. The splits' line counts come from
int_customer_product_purchases. Kept and reused until the refit schedule
says otherwise (crm_analytics.ml.schedule). Logic:
crm_analytics.ml.recommend."""

from crm_analytics.frames import read_frame
from crm_analytics.ml import one_thread
from crm_analytics.ml.recommend import evaluate_candidates
from crm_analytics.ml.schedule import on_schedule
from crm_analytics.settings import setting_value


@one_thread
def model(dbt, session):
    dbt.config(materialized="incremental")  # the rest: dbt_project.yml
    k = setting_value(
        "recommendation_top_k", dbt.config.meta_get("recommendation_top_k")
    )
    min_buyers = setting_value(
        "recommendation_min_buyers", dbt.config.meta_get("recommendation_min_buyers")
    )
    min_evaluation_customers = setting_value(
        "recommendation_min_evaluation_customers",
        dbt.config.meta_get("recommendation_min_evaluation_customers"),
    )

    def fit():
        counts = read_frame(
            dbt.ref("int_customer_product_purchases").project(
                "customer_id, product_id, count_lines_before_validation, "
                "count_lines_before_holdout, count_lines_in_holdout, "
                "count_returned_lines_before_validation, "
                "count_returned_lines_before_holdout"
            )
        )
        return evaluate_candidates(
            counts,
            k=k,
            min_buyers=min_buyers,
            min_evaluation_customers=min_evaluation_customers,
        ).assign(model_name="recommendations")

    return on_schedule(dbt, session, dbt.ref("int_model_fit_context"), fit)
