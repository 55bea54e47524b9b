"""Purchase propensity of every buyer as of as_of_date: probability of a
purchase in the horizon and the most likely category, from the model
refitted on the latest labelled snapshot. Logic: crm_analytics.ml.propensity."""

from crm_analytics.ml import one_thread
from crm_analytics.ml.propensity import score_purchase


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    snapshots = dbt.ref("int_customer_feature_snapshots")
    categories = dbt.ref("int_customer_category_snapshots")
    return score_purchase(
        snapshots.filter("snapshot_name = 'purchase_test'").df(),
        snapshots.filter("snapshot_name = 'current'").df(),
        categories.filter("snapshot_name = 'current'").df(),
        seed=int(dbt.config.get("random_seed")),
    )
