{#- One row: the date every metric is computed as of. The `as_of_date`
    variable when set, else the latest kept order date (else today). -#}
with

orders as (

    select * from {{ ref('int_orders_enriched') }}

),

as_of as (

    select
        coalesce(
            {{ as_of_date_literal() }},
            max(order_date),
            current_date
        ) as as_of_date
    from orders

)

select * from as_of
