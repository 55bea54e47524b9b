"""Purchase propensity of every buyer as of as_of_date: probability of a
purchase in the horizon, from the candidate
int_purchase_propensity_evaluation published, refitted on the latest
labelled snapshot, and the most likely category. Empty, with one warning in
the build log, when the evaluation fitted nothing. Logic:
crm_analytics.ml.propensity."""

from crm_analytics.ml import one_thread
from crm_analytics.ml.propensity import (
    published_candidate,
    score_purchase,
    warn_in_build,
)
from crm_analytics.settings import setting_value


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    evaluation = dbt.ref("int_purchase_propensity_evaluation").df()
    candidate, reason = published_candidate(evaluation)
    if candidate is None:
        warn_in_build(
            "fct_customer_purchase_propensity is empty: the purchase_propensity "
            f"model was not fitted ({reason})"
        )
    snapshots = dbt.ref("int_customer_feature_snapshots")
    categories = dbt.ref("int_customer_category_snapshots")
    return score_purchase(
        snapshots.filter("snapshot_name = 'purchase_test'").df(),
        snapshots.filter("snapshot_name = 'current'").df(),
        categories.filter("snapshot_name = 'current'").df(),
        seed=setting_value("random_seed", dbt.config.meta_get("random_seed")),
        candidate=candidate,
    )
