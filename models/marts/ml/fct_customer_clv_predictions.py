"""Probabilistic CLV: one row per buyer of dim_customer_rfm, scored with the
published purchase model and Gamma-Gamma of int_clv_parameters; empty when
they were not fitted. Logic: crm_analytics.ml.clv."""

from crm_analytics.ml import one_thread
from crm_analytics.ml.clv import score_clv


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    rfm = dbt.ref("dim_customer_rfm").df()
    parameters = dbt.ref("int_clv_parameters").df()
    return score_clv(
        rfm,
        parameters,
        horizon_months=int(dbt.config.get("horizon_months")),
        monthly_discount_rate=float(dbt.config.get("monthly_discount_rate")),
    )
