"""The customer segmentation model fitted on the current feature snapshot:
clip bounds, scaling, centroids and metrics, one row per parameter. Logic:
crm_analytics.ml.segments."""

from crm_analytics.ml import one_thread
from crm_analytics.ml.segments import fit_segments


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    features = dbt.ref("int_customer_feature_snapshots").filter(
        "snapshot_name = 'current'"
    )
    return fit_segments(
        features.df(),
        seed=int(dbt.config.get("random_seed")),
        min_purchase_days=int(dbt.config.get("min_purchase_days")),
    )
