{#- One row per customer with at least one completed order up to
    as_of_date. frequency, recency, t and monetary_value follow lifetimes'
    summary_data_from_transaction_data: purchases are aggregated per period
    (rfm_period_grain); frequency = periods - 1; recency = first to last
    period; t = first period to as_of_date's period, both in rfm_time_unit;
    monetary_value = mean net revenue of the repeat periods (0 for one-time
    buyers). -#}
with

orders as (

    select * from {{ ref('fct_orders') }}
    where is_completed

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

segment_map as (

    select * from {{ ref('rfm_segment_map') }}

),

purchase_periods as (

    select
        customer_id,
        {{ rfm_period_start('order_date') }} as period_start,
        count(*) as count_orders,
        sum(net_revenue) as period_revenue,
        max(order_date) as last_order_date
    from orders
    group by 1, 2

),

numbered_periods as (

    select
        *,
        row_number() over (
            partition by customer_id order by period_start
        ) as period_number
    from purchase_periods

),

summary as (

    select
        numbered_periods.customer_id,
        count(*) - 1 as frequency,
        sum(numbered_periods.count_orders) as count_orders,
        sum(numbered_periods.period_revenue) as sum_net_revenue,
        coalesce(
            avg(numbered_periods.period_revenue) filter (
                where numbered_periods.period_number > 1
            ),
            0
        ) as monetary_value,
        min(numbered_periods.period_start) as first_period_start,
        max(numbered_periods.period_start) as last_period_start,
        max(numbered_periods.last_order_date) as last_purchase_date
    from numbered_periods
    group by 1

),

timed as (

    select
        summary.*,
        as_of.as_of_date,
        {{ rfm_time_unit_days() }} as unit_days,
        date_diff(
            'day', summary.first_period_start, summary.last_period_start
        ) / {{ rfm_time_unit_days() }} as recency,
        date_diff(
            'day',
            summary.first_period_start,
            {{ rfm_period_start('as_of.as_of_date') }}
        ) / {{ rfm_time_unit_days() }} as t,
        date_diff('day', summary.last_purchase_date, as_of.as_of_date)
            as days_since_last_purchase
    from summary
    cross join as_of

),

scored as (

    select
        *,
        {{ quintile_score('days_since_last_purchase desc') }} as r_score,
        {{ quintile_score('frequency') }} as f_score,
        {{ quintile_score('sum_net_revenue') }} as m_score
    from timed

),

final as (

    select
        scored.customer_id,
        segment_map.rfm_segment,
        concat(scored.r_score, scored.f_score, scored.m_score) as rfm_cell,
        '{{ var("rfm_time_unit") }}' as rfm_time_unit,
        scored.frequency,
        cast(scored.recency as double) as recency,
        cast(scored.t as double) as t,
        cast(scored.monetary_value as double) as monetary_value,
        scored.days_since_last_purchase,
        cast(scored.count_orders as bigint) as count_orders,
        cast(scored.sum_net_revenue as decimal(18, 2)) as sum_net_revenue,
        scored.r_score,
        scored.f_score,
        scored.m_score,
        scored.first_period_start as first_purchase_period_start,
        scored.last_purchase_date,
        scored.as_of_date
    from scored
    left join segment_map
        on
            scored.r_score = segment_map.r_score
            and scored.f_score = segment_map.f_score

)

select * from final
