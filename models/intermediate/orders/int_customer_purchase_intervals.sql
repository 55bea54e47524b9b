{#- One row per customer with at least one completed order up to
    as_of_date: the cadence of their purchase days (days between consecutive
    purchase days). Shared by loyalty, seasonality and signals. -#}
with

orders as (

    select * from {{ ref('int_orders_enriched') }}
    where is_completed

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

purchase_days as (

    select distinct
        orders.customer_id,
        orders.order_date
    from orders
    inner join as_of
        on orders.order_date <= as_of.as_of_date

),

gaps as (

    select
        customer_id,
        order_date,
        order_date - lag(order_date) over (
            partition by customer_id order by order_date
        ) as days_since_previous
    from purchase_days

),

summary as (

    select
        customer_id,
        count(*) as count_purchase_days,
        avg(days_since_previous) as avg_days_between_purchases,
        median(days_since_previous) as median_days_between_purchases,
        stddev_pop(days_since_previous) as stddev_days_between_purchases,
        min(order_date) as first_purchase_date,
        max(order_date) as last_purchase_date
    from gaps
    group by 1

),

final as (

    {#- Regularity of the cadence: 1 / (1 + coefficient of variation of the
        intervals), 1 for clockwork; null with fewer than 3 purchase days. #}
    select
        *,
        case
            when count_purchase_days >= 3
                then
                    1 / (
                        1 + stddev_days_between_purchases
                        / nullif(avg_days_between_purchases, 0)
                    )
        end as cadence_regularity
    from summary

)

select * from final
