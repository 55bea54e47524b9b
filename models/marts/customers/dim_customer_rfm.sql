{#- One row per customer with at least one completed order up to
    as_of_date: the RFM summary of the per-customer base
    (int_customer_order_summary, after lifetimes'
    summary_data_from_transaction_data: see the rfm_summary macro) with
    quintile scores and the segment they map to. -#}
with

order_summary as (

    select * from {{ ref('int_customer_order_summary') }}
    where count_completed_orders > 0

),

segment_map as (

    select * from {{ ref('rfm_segment_map') }}

),

scored as (

    select
        *,
        {{ quintile_score('days_since_last_purchase desc') }} as r_score,
        {{ quintile_score('frequency') }} as f_score,
        {{ quintile_score('completed_net_revenue') }} as m_score
    from order_summary

),

final as (

    select
        scored.customer_id,
        segment_map.rfm_segment,
        concat(scored.r_score, scored.f_score, scored.m_score) as rfm_cell,
        scored.rfm_time_unit,
        scored.frequency,
        cast(scored.recency as double) as recency,
        cast(scored.t as double) as t,
        cast(scored.monetary_value as double) as monetary_value,
        scored.days_since_last_purchase,
        scored.count_completed_orders as count_orders,
        cast(scored.completed_net_revenue as {{ money_type() }})
            as sum_net_revenue,
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
