"""Purchase propensity judged out of time: fitted on purchase_train,
scored on purchase_test, plus the most-likely-category hit rate on the same
test horizon. One row per metric. Logic: crm_analytics.ml.propensity."""

from crm_analytics.ml import metrics_frame, one_thread
from crm_analytics.ml.propensity import (
    evaluate_category,
    evaluate_propensity,
    purchase_label,
)


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    snapshots = dbt.ref("int_customer_feature_snapshots")
    train = snapshots.filter("snapshot_name = 'purchase_train'").df()
    test_rows = snapshots.filter("snapshot_name = 'purchase_test'")
    test = test_rows.df()
    # the test customers' category rows, filtered in DuckDB before transfer
    categories = (
        dbt.ref("int_customer_category_snapshots")
        .filter("snapshot_name = 'purchase_test'")
        .join(test_rows.select("customer_id"), "customer_id", how="semi")
        .df()
    )
    seed = int(dbt.config.get("random_seed"))
    metrics = evaluate_propensity(train, test, purchase_label, seed)
    return metrics_frame(metrics + evaluate_category(categories))
