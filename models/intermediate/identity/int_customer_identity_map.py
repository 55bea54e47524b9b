"""Identity map: one row per source customer record, with its resolved
customer. The rules live in crm_analytics.identity."""

from crm_analytics.identity import resolve_identities


def model(dbt, session):
    dbt.config(materialized="table")
    records = dbt.ref("int_customer_records_standardised").df()
    return resolve_identities(
        records, max_group_size=int(dbt.config.get("max_group_size"))
    )
