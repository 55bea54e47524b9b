"""The churn and purchase propensity models that score customers: the
candidate each evaluation published, fitted on the latest labelled
snapshot (churn_test, active customers; purchase_test). One row per model,
the fitted model stored in skops's format (only allowed types load), kept
and reused until the refit schedule says otherwise
(crm_analytics.ml.schedule) or its evaluation publishes another candidate.
Logic: crm_analytics.ml.propensity."""

import pandas as pd

from crm_analytics.frames import read_frame
from crm_analytics.ml import one_thread
from crm_analytics.ml.propensity import (
    churn_label,
    fit_scoring_model,
    published_candidate,
    purchase_label,
    stale_scoring_models,
)
from crm_analytics.ml.schedule import on_schedule
from crm_analytics.settings import setting_value


@one_thread
def model(dbt, session):
    dbt.config(materialized="incremental")  # the rest: dbt_project.yml
    seed = setting_value("random_seed", dbt.config.meta_get("random_seed"))
    evaluations = {
        "churn": read_frame(dbt.ref("int_churn_evaluation")),
        "purchase_propensity": read_frame(
            dbt.ref("int_purchase_propensity_evaluation")
        ),
    }
    snapshots = dbt.ref("int_customer_feature_snapshots")
    training = {
        "churn": ("churn_test", "snapshot_name = 'churn_test' and is_active"),
        "purchase_propensity": ("purchase_test", "snapshot_name = 'purchase_test'"),
    }
    labels = {"churn": churn_label, "purchase_propensity": purchase_label}

    def fit():
        return pd.concat(
            [
                fit_scoring_model(
                    name,
                    evaluations[name],
                    read_frame(snapshots.filter(training[name][1])),
                    labels[name],
                    seed,
                    training[name][0],
                )
                for name in evaluations
            ],
            ignore_index=True,
        )

    published = {
        name: published_candidate(evaluation)[0]
        for name, evaluation in evaluations.items()
    }
    return on_schedule(
        dbt,
        session,
        dbt.ref("int_model_fit_context"),
        fit,
        stale=lambda stored: stale_scoring_models(stored, published),
    )
