"""Behaviour anomalies among buyers as of as_of_date: evidence against the
population's 99th percentiles and return rate. Logic:
crm_analytics.ml.anomalies."""

from crm_analytics.frames import as_arrow, read_frame
from crm_analytics.ml import one_thread
from crm_analytics.ml.anomalies import detect_anomalies
from crm_analytics.settings import setting_value


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    features = dbt.ref("int_customer_features_current")
    anomalies = detect_anomalies(
        read_frame(features),
        factor=setting_value(
            "anomaly_magnitude_factor", dbt.config.meta_get("anomaly_magnitude_factor")
        ),
        return_p=setting_value(
            "anomaly_return_p", dbt.config.meta_get("anomaly_return_p")
        ),
    )
    return as_arrow(anomalies)
