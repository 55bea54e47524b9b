"""Purchase propensity of every buyer as of as_of_date: probability of a
purchase in the horizon, scored with the stored purchase model
(int_propensity_models: the candidate int_purchase_propensity_evaluation
published, fitted on the latest labelled snapshot), and the most likely
category. Empty, with one warning in the build log, when no model was
fitted. Logic: crm_analytics.ml.propensity."""

from crm_analytics.frames import as_arrow, read_frame
from crm_analytics.ml import one_thread
from crm_analytics.ml.propensity import (
    score_purchase,
    stored_scoring_model,
    warn_in_build,
)


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    purchase_model, reason = stored_scoring_model(
        read_frame(dbt.ref("int_propensity_models")), "purchase_propensity"
    )
    if purchase_model is None:
        warn_in_build(
            "fct_customer_purchase_propensity is empty: the purchase_propensity "
            f"model was not fitted ({reason})"
        )
    scores = score_purchase(
        purchase_model,
        read_frame(dbt.ref("int_customer_features_current")),
        read_frame(
            dbt.ref("int_customer_category_snapshots").filter(
                "snapshot_name = 'current'"
            )
        ),
    )
    return as_arrow(scores)
