"""Churn candidates judged out of time: each fitted on the churn_train
snapshot, calibrated and judged on churn_test (active customers); the one
with the lowest log loss is published. One row per candidate x metric, kept
and reused until the refit schedule says otherwise
(crm_analytics.ml.schedule). Logic: crm_analytics.ml.propensity."""

from crm_analytics.frames import read_frame
from crm_analytics.ml import one_thread
from crm_analytics.ml.propensity import churn_label, evaluate_candidates
from crm_analytics.ml.schedule import on_schedule
from crm_analytics.settings import setting_value


@one_thread
def model(dbt, session):
    dbt.config(materialized="incremental")  # the rest: dbt_project.yml
    seed = setting_value("random_seed", dbt.config.meta_get("random_seed"))

    def fit():
        snapshots = dbt.ref("int_customer_feature_snapshots")
        train = read_frame(
            snapshots.filter("snapshot_name = 'churn_train' and is_active")
        )
        test = read_frame(
            snapshots.filter("snapshot_name = 'churn_test' and is_active")
        )
        return evaluate_candidates(
            train,
            test,
            churn_label,
            seed,
            "churn_train (active customers)",
            "churn_test (active customers)",
        ).assign(model_name="churn")

    return on_schedule(dbt, session, dbt.ref("int_model_fit_context"), fit)
