{#- The per-customer base: one row per customer with an order on or before
    as_of_date. Every mart that needs a customer's order history, purchase
    summary, cadence or RFM summary reads it here; nothing else aggregates
    them. What comes from the customer's orders is
    int_customer_order_history's (updated by customer); this adds what
    moves with as_of_date, from that one row per customer and not from the
    orders: days since the last purchase, lifetimes' t and the date
    itself. -#}
with

history as (

    select * from {{ ref('int_customer_order_history') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

final as (

    select
        history.customer_id,
        history.count_orders,
        history.count_completed_orders,
        history.count_cancelled_orders,
        history.count_returned_orders,
        history.count_unconfirmed_orders,
        history.lifetime_gross_revenue,
        history.lifetime_net_revenue,
        history.lifetime_returned_revenue,
        history.lifetime_cancelled_revenue,
        history.lifetime_pending_revenue,
        history.lifetime_cost_of_goods,
        history.lifetime_gross_margin,
        history.completed_net_revenue,
        history.count_purchase_days,
        as_of.as_of_date - history.last_purchase_date
            as days_since_last_purchase,
        history.avg_days_between_purchases,
        history.median_days_between_purchases,
        history.stddev_days_between_purchases,
        history.cadence_regularity,
        history.rfm_time_unit,
        history.frequency,
        history.recency,
        {{ rfm_t('history.first_period_start', 'as_of.as_of_date') }} as t,
        history.monetary_value,
        history.first_order_date,
        history.last_order_date,
        history.first_purchase_date,
        history.last_purchase_date,
        history.first_period_start,
        as_of.as_of_date
    from history
    cross join as_of

)

select * from final
