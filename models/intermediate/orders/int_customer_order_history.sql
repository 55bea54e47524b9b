{#- What the per-customer base (int_customer_order_summary) aggregates from
    a customer's orders: one row per customer with an order on or before
    as_of_date (int_orders_enriched is cut there), holding every column of
    the base that does not move with as_of_date.
      history   every status: orders by status, lifetime gross and net
                revenue (net of returns and unmatched refunds), what was
                given back, cancelled or is pending, cost and margin;
      purchases completed orders: first and last purchase, purchase days,
                their revenue;
      cadence   days between consecutive purchase days (mean, median,
                standard deviation) and the regularity 1 / (1 + their
                coefficient of variation), null below 3 purchase days;
      RFM       lifetimes' summary_data_from_transaction_data (rfm_summary):
                frequency, recency, monetary_value and the first period
                (t and days since the last purchase move with as_of_date:
                the base computes them).

    Incremental by customer: a run rebuilds the rows of the customers whose
    orders int_orders_enriched rebuilt since this model's latest built_at
    (published_changed_customers; those are every customer whose orders
    as_of_date moved across), after deleting theirs. A changed
    rfm_time_unit or rfm_period_grain rebuilds it in full. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=by_customer_pre_hooks(
        "published_changed_customers('int_orders_enriched')"
    )
) }}

{{ rebuild_in_full_when([{
    'query': "select count(*) > 0 from " ~ this
        ~ " where built_rfm_time_unit <> '" ~ var('rfm_time_unit')
        ~ "' or built_rfm_period_grain <> '" ~ var('rfm_period_grain') ~ "'",
    'why': 'rfm_time_unit or rfm_period_grain changed',
}], required_column='built_at') }}

with

orders as (

    select * from {{ ref('int_orders_enriched') }}
    where {{ of_changed_customers() }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

completed_orders as (

    select * from orders
    where is_completed

),

history as (

    select
        customer_id,
        {#- a refund that matched no order is not an order -#}
        count(*) filter (where order_status <> 'credit_note') as count_orders,
        count(*) filter (where is_completed) as count_completed_orders,
        count(*) filter (where is_cancelled) as count_cancelled_orders,
        count(*) filter (where is_returned) as count_returned_orders,
        count(*) filter (
            where order_status in ('completed', 'pending') and not is_completed
        ) as count_unconfirmed_orders,
        sum(gross_revenue) as lifetime_gross_revenue,
        sum(net_revenue) as lifetime_net_revenue,
        {#- given back: returns, partial refunds, refunds matching no order -#}
        coalesce(
            sum(gross_revenue - net_revenue) filter (
                where order_status in ('completed', 'returned', 'credit_note')
            ),
            0
        ) as lifetime_returned_revenue,
        coalesce(sum(gross_revenue) filter (where is_cancelled), 0)
            as lifetime_cancelled_revenue,
        coalesce(sum(gross_revenue) filter (where order_status = 'pending'), 0)
            as lifetime_pending_revenue,
        sum(cost_of_goods) filter (where is_completed)
            as lifetime_cost_of_goods,
        sum(net_revenue - cost_of_goods) filter (where is_completed)
            as lifetime_gross_margin,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from orders
    group by 1

),

purchase_days as (

    select distinct
        customer_id,
        order_date
    from completed_orders

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

cadence as (

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

rfm as (

    {{ rfm_summary('completed_orders', '(select as_of_date from as_of)') }}

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
        rfm.sum_net_revenue as completed_net_revenue,
        cadence.count_purchase_days,
        cadence.avg_days_between_purchases,
        cadence.median_days_between_purchases,
        cadence.stddev_days_between_purchases,
        {#- Regularity of the cadence: 1 / (1 + coefficient of variation of
            the intervals), 1 for clockwork; null below 3 purchase days. #}
        case
            when cadence.count_purchase_days >= 3
                then
                    1 / (
                        1 + cadence.stddev_days_between_purchases
                        / nullif(cadence.avg_days_between_purchases, 0)
                    )
        end as cadence_regularity,
        rfm.rfm_time_unit,
        rfm.frequency,
        rfm.recency,
        rfm.monetary_value,
        history.first_order_date,
        history.last_order_date,
        cadence.first_purchase_date,
        cadence.last_purchase_date,
        rfm.first_period_start,
        {#- the settings the rows were built with -#}
        '{{ var("rfm_time_unit") }}' as built_rfm_time_unit,
        '{{ var("rfm_period_grain") }}' as built_rfm_period_grain,
        {{ run_timestamp() }} as built_at
    from history
    left join cadence
        on history.customer_id = cadence.customer_id
    left join rfm
        on history.customer_id = rfm.customer_id

)

select * from final
