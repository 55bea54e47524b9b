"""Churn propensity of every active customer as of as_of_date, from the
model refitted on the latest labelled snapshot (churn_test). Logic:
crm_analytics.ml.propensity."""

from crm_analytics.ml import one_thread
from crm_analytics.ml.propensity import score_churn


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    snapshots = dbt.ref("int_customer_feature_snapshots")
    train = snapshots.filter("snapshot_name = 'churn_test' and is_active").df()
    current = snapshots.filter("snapshot_name = 'current' and is_active").df()
    return score_churn(train, current, seed=int(dbt.config.get("random_seed")))
