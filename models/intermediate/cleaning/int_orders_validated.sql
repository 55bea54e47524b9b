{#- Every raw order row with its fate. The source's status spelling is
    mapped by seeds/order_status_map.csv onto completed, pending, cancelled,
    returned or credit_note; an empty status means completed, and a
    spelling the seed does not know quarantines the row as invalid_status
    (the spelling is in dq_detail). An order whose account is not a valid
    shop account is quarantined as unknown_customer. Incremental: a run
    re-triages the orders with rows in a new load batch and those whose
    account's validity changed (see incremental_scope). -#}
{{ config(
    materialized='incremental',
    unique_key='source_row_number',
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}

with

status_map as (

    select * from {{ ref('order_status_map') }}

),

valid_keys as (

    select * from {{ ref('int_customer_keys_valid') }}
    where source_system = 'shop'

),

scoped as (

    {{ incremental_scope(
        ref('stg_shop__orders'),
        ['order_id'],
        "previous.dq_reason in ('unknown_customer', 'invalid_status') or ("
        ~ "previous.row_status <> 'quarantined' and previous.account_id "
        ~ "not in (select source_customer_id from valid_keys))",
        raw_table='orders'
    ) }}

),

statused as (

    select
        scoped.*,
        case
            when scoped.source_status is null then 'completed'
            else status_map.order_status
        end as order_status
    from scoped
    left join status_map
        on scoped.source_status = status_map.source_status

),

checked as (

    select
        statused.* exclude (dq_reason),
        case
            when
                statused.dq_reason in (
                    'missing_required_field',
                    'invalid_timestamp',
                    'future_timestamp'
                )
                then statused.dq_reason
            when statused.order_status is null then 'invalid_status'
            when statused.dq_reason is not null then statused.dq_reason
            when valid_keys.source_customer_id is null
                then 'unknown_customer'
        end as dq_reason
    from statused
    left join valid_keys
        on statused.account_id = valid_keys.source_customer_id

),

detailed as (

    select
        *,
        case
            when dq_reason = 'invalid_status'
                then
                    'status ' || source_status
                    || ' is not in seeds/order_status_map.csv'
        end as dq_detail
    from checked

),

triaged as (

    {{ triage_rows(
        'detailed',
        ['order_id'],
        'updated_at desc nulls last, source_row_number desc'
    ) }}

)

select
    *,
    {{ run_timestamp() }} as triaged_at
from triaged
