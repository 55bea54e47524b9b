"""Churn propensity of every active customer as of as_of_date, scored with
the stored churn model (int_propensity_models: the candidate
int_churn_evaluation published, fitted on the latest labelled snapshot).
Empty, with one warning in the build log, when no model was fitted. Logic:
crm_analytics.ml.propensity."""

from crm_analytics.frames import as_arrow, read_frame
from crm_analytics.ml import one_thread
from crm_analytics.ml.propensity import score_churn, stored_scoring_model, warn_in_build


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    churn_model, reason = stored_scoring_model(
        read_frame(dbt.ref("int_propensity_models")), "churn"
    )
    if churn_model is None:
        warn_in_build(
            f"fct_customer_churn_scores is empty: the churn model was not "
            f"fitted ({reason})"
        )
    current = read_frame(dbt.ref("int_customer_features_current").filter("is_active"))
    return as_arrow(score_churn(churn_model, current))
