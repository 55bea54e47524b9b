"""Churn propensity of every active customer as of as_of_date, from the
candidate int_churn_evaluation published, refitted on the latest labelled
snapshot (churn_test). Empty, with one warning in the build log, when the
evaluation fitted nothing. Logic: crm_analytics.ml.propensity."""

from crm_analytics.ml import one_thread
from crm_analytics.ml.propensity import published_candidate, score_churn, warn_in_build
from crm_analytics.settings import setting_value


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    candidate, reason = published_candidate(dbt.ref("int_churn_evaluation").df())
    if candidate is None:
        warn_in_build(
            f"fct_customer_churn_scores is empty: the churn model was not "
            f"fitted ({reason})"
        )
    snapshots = dbt.ref("int_customer_feature_snapshots")
    train = snapshots.filter("snapshot_name = 'churn_test' and is_active").df()
    current = snapshots.filter("snapshot_name = 'current' and is_active").df()
    seed = setting_value("random_seed", dbt.config.meta_get("random_seed"))
    return score_churn(train, current, seed, candidate)
