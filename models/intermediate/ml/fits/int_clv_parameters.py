"""The CLV models fitted on the RFM summary of the buyers in the
per-customer base (int_customer_order_summary): BG/NBD, MBG/NBD and
Pareto/NBD (each also refitted on int_clv_holdout and judged on the holdout;
the best is published) and Gamma-Gamma. One row per model x candidate x
parameter or statistic, with the run that fitted it: kept and reused until
the refit schedule says otherwise (crm_analytics.ml.schedule). Logic:
crm_analytics.ml.clv."""

from crm_analytics.frames import read_frame
from crm_analytics.ml import one_thread, warn_in_build
from crm_analytics.ml.clv import fit_clv_parameters, not_fitted_warning
from crm_analytics.ml.schedule import on_schedule


@one_thread
def model(dbt, session):
    dbt.config(materialized="incremental")  # the rest: dbt_project.yml

    def fit():
        rfm = read_frame(
            dbt.ref("int_customer_order_summary").filter("count_completed_orders > 0")
        )
        return fit_clv_parameters(rfm, read_frame(dbt.ref("int_clv_holdout")))

    parameters = on_schedule(dbt, session, dbt.ref("int_model_fit_context"), fit)
    warning = not_fitted_warning(parameters)
    if warning:
        # through dbt's own logger: a whole line, never interleaved with the
        # lines of a model running beside this one
        warn_in_build(warning)
    return parameters
