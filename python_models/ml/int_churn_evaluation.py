"""Churn model judged out of time: fitted on the churn_train snapshot,
scored on churn_test (active customers). One row per metric. Logic:
crm_analytics.ml.propensity."""

from crm_analytics.ml import metrics_frame, one_thread
from crm_analytics.ml.propensity import churn_label, evaluate_propensity


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    snapshots = dbt.ref("int_customer_feature_snapshots")
    train = snapshots.filter("snapshot_name = 'churn_train' and is_active").df()
    test = snapshots.filter("snapshot_name = 'churn_test' and is_active").df()
    seed = int(dbt.config.get("random_seed"))
    return metrics_frame(evaluate_propensity(train, test, churn_label, seed))
