"""BG/NBD and Gamma-Gamma fitted on dim_customer_rfm: one row per fitted
parameter or fit statistic. Logic: crm_analytics.ml.clv."""

from crm_analytics.ml.clv import fit_clv_parameters


def model(dbt, session):
    dbt.config(materialized="table")
    rfm = dbt.ref("dim_customer_rfm").df()
    return fit_clv_parameters(rfm)
