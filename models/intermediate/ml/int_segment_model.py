"""The customer segmentation model fitted on the current feature snapshot:
clip bounds, scaling, centroids and metrics, one row per parameter. When it
cannot be fitted the build prints one warning with the reason. Logic:
crm_analytics.ml.segments."""

from crm_analytics.ml import one_thread, warn_in_build
from crm_analytics.ml.segments import fit_segments, not_fitted_reason
from crm_analytics.settings import setting_value


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    features = dbt.ref("int_customer_feature_snapshots").filter(
        "snapshot_name = 'current'"
    )
    fitted = fit_segments(
        features.df(),
        seed=setting_value("random_seed", dbt.config.meta_get("random_seed")),
        min_purchase_days=setting_value(
            "segment_min_purchase_days",
            dbt.config.meta_get("segment_min_purchase_days"),
        ),
    )
    reason = not_fitted_reason(fitted)
    if reason:
        warn_in_build(
            f"int_segment_model: the segmentation model was not fitted "
            f"({reason}); every buyer is unsegmented"
        )
    return fitted
