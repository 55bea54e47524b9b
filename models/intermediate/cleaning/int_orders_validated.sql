{#- Every raw order row with its fate. An order whose account is not a valid
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

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

valid_keys as (

    select * from {{ ref('int_customer_keys_valid') }}
    where source_system = 'shop'

),

scoped as (

    {{ incremental_scope(
        'orders',
        ['order_id'],
        "previous.dq_reason = 'unknown_customer' or ("
        ~ "previous.row_status <> 'quarantined' and previous.account_id "
        ~ "not in (select source_customer_id from valid_keys))",
        raw_table='orders'
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
        on scoped.account_id = valid_keys.source_customer_id

),

triaged as (

    {{ triage_rows(
        'checked',
        ['order_id'],
        'updated_at desc nulls last, source_row_number desc'
    ) }}

)

select * from triaged
