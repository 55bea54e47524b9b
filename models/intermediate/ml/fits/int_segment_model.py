"""The customer segmentation model fitted on the current feature snapshot:
clip bounds, scaling, centroids and metrics, one row per parameter. When it
cannot be fitted the build prints one warning with the reason. Kept and
reused until the refit schedule says otherwise (crm_analytics.ml.schedule).
Logic: crm_analytics.ml.segments."""

from crm_analytics.frames import read_frame
from crm_analytics.ml import one_thread, warn_in_build
from crm_analytics.ml.schedule import on_schedule
from crm_analytics.ml.segments import fit_segments, not_fitted_reason
from crm_analytics.settings import setting_value


@one_thread
def model(dbt, session):
    dbt.config(materialized="incremental")  # the rest: dbt_project.yml
    seed = setting_value("random_seed", dbt.config.meta_get("random_seed"))
    min_purchase_days = setting_value(
        "segment_min_purchase_days", dbt.config.meta_get("segment_min_purchase_days")
    )

    def fit():
        features = dbt.ref("int_customer_features_current")
        return fit_segments(
            read_frame(features), seed=seed, min_purchase_days=min_purchase_days
        ).assign(model_name="segmentation")

    fitted = on_schedule(dbt, session, dbt.ref("int_model_fit_context"), fit)
    reason = not_fitted_reason(fitted)
    if reason:
        warn_in_build(
            f"int_segment_model: the segmentation model was not fitted "
            f"({reason}); every buyer is unsegmented"
        )
    return fitted
