"""BG/NBD and Gamma-Gamma fitted on dim_customer_rfm, and BG/NBD's holdout
evaluation on int_clv_holdout: one row per parameter or statistic. Logic:
crm_analytics.ml.clv."""

from crm_analytics.ml import one_thread
from crm_analytics.ml.clv import fit_clv_parameters


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    rfm = dbt.ref("dim_customer_rfm").df()
    holdout = dbt.ref("int_clv_holdout").df()
    return fit_clv_parameters(rfm, holdout)
