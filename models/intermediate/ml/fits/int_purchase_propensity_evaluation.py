"""Purchase propensity candidates judged out of time: each fitted on
purchase_train, calibrated and judged on purchase_test; the one with the
lowest log loss is published. Plus the most-likely-category hit rate on the
same test horizon. One row per candidate x metric, kept and reused until
the refit schedule says otherwise (crm_analytics.ml.schedule). Logic:
crm_analytics.ml.propensity."""

import pandas as pd

from crm_analytics.frames import read_frame
from crm_analytics.ml import one_thread
from crm_analytics.ml.propensity import (
    category_rows,
    evaluate_candidates,
    evaluate_category,
    published_candidate,
    purchase_label,
)
from crm_analytics.ml.schedule import on_schedule
from crm_analytics.settings import setting_value


@one_thread
def model(dbt, session):
    dbt.config(materialized="incremental")  # the rest: dbt_project.yml
    seed = setting_value("random_seed", dbt.config.meta_get("random_seed"))

    def fit():
        snapshots = dbt.ref("int_customer_feature_snapshots")
        train = read_frame(snapshots.filter("snapshot_name = 'purchase_train'"))
        test_rows = snapshots.filter("snapshot_name = 'purchase_test'")
        test = read_frame(test_rows)
        # the test customers' category rows, filtered in DuckDB before transfer
        categories = read_frame(
            dbt.ref("int_customer_category_snapshots")
            .filter("snapshot_name = 'purchase_test'")
            .join(test_rows.select("customer_id"), "customer_id", how="semi")
        )
        evaluation = evaluate_candidates(
            train, test, purchase_label, seed, "purchase_train", "purchase_test"
        )
        fitted = published_candidate(evaluation)[0] is not None
        return pd.concat(
            [evaluation, category_rows(evaluate_category(categories), fitted)],
            ignore_index=True,
        ).assign(model_name="purchase_propensity")

    return on_schedule(dbt, session, dbt.ref("int_model_fit_context"), fit)
