{#- Every raw transaction row with its fate. Transactions have no row key:
    every valid row is kept (two identical purchases can be real). An order
    key (the row's order_id, or T<row> for a row without one) that rows of
    two customers carry, or that a kept shop order also has, says nothing
    about whose order it is: every valid row carrying it is quarantined as
    conflicting_order_id. -#}
with

transactions as (

    select * from {{ ref('stg_transactions__transactions') }}

),

shop_orders as (

    select * from {{ ref('int_orders_validated') }}
    where row_status = 'kept'

),

keyed as (

    select
        *,
        coalesce(order_id, 'T' || source_row_number) as order_key
    from transactions

),

conflicting_keys as (

    select keyed.order_key
    from keyed
    where keyed.dq_reason is null
    group by 1
    having count(distinct keyed.customer_source_id) > 1
    union
    select keyed.order_key
    from keyed
    inner join shop_orders
        on keyed.order_key = shop_orders.order_id
    where keyed.dq_reason is null

),

checked as (

    select
        keyed.* exclude (dq_reason),
        case
            when keyed.dq_reason is not null then keyed.dq_reason
            when conflicting_keys.order_key is not null
                then 'conflicting_order_id'
        end as dq_reason
    from keyed
    left join conflicting_keys
        on keyed.order_key = conflicting_keys.order_key

),

triaged as (

    {{ triage_rows(
        'checked', ['source_row_number'], 'source_row_number'
    ) }}

)

select * from triaged
