"""Identity map: one row per source customer record, with its resolved
customer. The rules live in crm_analytics.identity."""

from crm_analytics.frames import as_arrow, read_frame
from crm_analytics.identity import resolve_identities
from crm_analytics.settings import setting_value


def model(dbt, session):
    dbt.config(materialized="table")
    records = read_frame(dbt.ref("int_customer_records_standardised"))
    max_group_size = setting_value(
        "identity_max_group_size", dbt.config.meta_get("identity_max_group_size")
    )
    return as_arrow(resolve_identities(records, max_group_size=max_group_size))
