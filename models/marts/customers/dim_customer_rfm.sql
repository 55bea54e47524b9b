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

summary as (

    {{ rfm_summary('orders', '(select as_of_date from as_of)') }}

),

timed as (

    select
        summary.*,
        as_of.as_of_date
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
        cast(scored.sum_net_revenue as {{ money_type() }}) as sum_net_revenue,
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
