{#- Every raw order row with its fate. An order whose account is not a valid
    shop account is quarantined as unknown_customer. -#}
with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

valid_keys as (

    select * from {{ ref('int_customer_keys_valid') }}
    where source_system = 'shop'

),

checked as (

    select
        orders.* exclude (dq_reason),
        coalesce(
            orders.dq_reason,
            case
                when valid_keys.source_customer_id is null
                    then 'unknown_customer'
            end
        ) as dq_reason
    from orders
    left join valid_keys
        on orders.account_id = valid_keys.source_customer_id

),

triaged as (

    {{ triage_rows(
        'checked',
        ['order_id'],
        'updated_at desc nulls last, source_row_number desc'
    ) }}

)

select * from triaged
