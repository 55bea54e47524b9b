"""Probabilistic CLV: one row per buyer of the per-customer base
(int_customer_order_summary), scored with the
published purchase model and Gamma-Gamma of int_clv_parameters; empty when
they were not fitted. Logic: crm_analytics.ml.clv."""

from crm_analytics.frames import as_arrow, read_frame
from crm_analytics.ml import one_thread
from crm_analytics.ml.clv import score_clv
from crm_analytics.settings import setting_value


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    rfm = read_frame(
        dbt.ref("int_customer_order_summary").filter("count_completed_orders > 0")
    )
    parameters = read_frame(dbt.ref("int_clv_parameters"))
    predictions = score_clv(
        rfm,
        parameters,
        horizon_months=setting_value(
            "clv_horizon_months", dbt.config.meta_get("clv_horizon_months")
        ),
        monthly_discount_rate=setting_value(
            "clv_monthly_discount_rate",
            dbt.config.meta_get("clv_monthly_discount_rate"),
        ),
    )
    return as_arrow(predictions)
