{#- Every raw email event row with its fate (unknown contacts are
    quarantined as unknown_customer). Incremental: a run re-triages the events
    with rows in a new load batch and those whose customer's validity
    changed (see incremental_scope). `triaged_at` says which run triaged
    each row; a table built before it had the column is rebuilt in full. -#}
{{ config(
    materialized='incremental',
    unique_key='source_row_number',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}

{{ rebuild_in_full_when([], required_column='triaged_at') }}

with

valid_keys as (

    select * from {{ ref('int_customer_keys_valid') }}
    where source_system = 'crm'

),

scoped as (

    {{ incremental_scope(
        ref('stg_email__events'),
        ['event_id'],
        "previous.dq_reason = 'unknown_customer' or ("
        ~ "previous.row_status <> 'quarantined' and previous.contact_id "
        ~ "not in (select source_customer_id from valid_keys))",
        raw_table='email_events'
    ) }}

),

checked as (

    select
        scoped.* exclude (dq_reason),
        coalesce(
            scoped.dq_reason,
            case
                when valid_keys.source_customer_id is null
                    then 'unknown_customer'
            end
        ) as dq_reason
    from scoped
    left join valid_keys
        on scoped.contact_id = valid_keys.source_customer_id

),

triaged as (

    {{ triage_rows('checked', ['event_id'], 'source_row_number desc') }}

)

select
    *,
    {{ run_timestamp() }} as triaged_at
from triaged
