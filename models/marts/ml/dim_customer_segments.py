"""Behavioural segment of every buyer: the nearest centroid of
int_segment_model. Logic: crm_analytics.ml.segments."""

from crm_analytics.frames import as_arrow, read_frame
from crm_analytics.ml import one_thread
from crm_analytics.ml.segments import assign_segments


@one_thread
def model(dbt, session):
    dbt.config(materialized="table")
    features = dbt.ref("int_customer_features_current")
    return as_arrow(
        assign_segments(read_frame(features), read_frame(dbt.ref("int_segment_model")))
    )
