{#- One row per behavioural segment of dim_customer_segments (early_stage
    included): its size, value and the mean of the features that define
    it, for naming, sizing and BI. -#}
with

segments as (

    select * from {{ ref('dim_customer_segments') }}

),

features as (

    select * from {{ ref('int_customer_feature_snapshots') }}
    where snapshot_name = 'current'

),

final as (

    select
        segments.segment_id,
        segments.segment_name,
        count(*) as count_customers,
        count(*) / sum(count(*)) over () as pct_customers,
        sum(features.lifetime_net_revenue) as sum_lifetime_net_revenue,
        sum(features.lifetime_net_revenue)
        / sum(sum(features.lifetime_net_revenue)) over () as pct_net_revenue,
        avg(features.lifetime_net_revenue) as avg_lifetime_net_revenue,
        avg(features.purchase_days_per_year) as avg_purchase_days_per_year,
        avg(features.avg_lines_per_order) as avg_lines_per_order,
        avg(features.avg_units_per_line) as avg_units_per_line,
        avg(features.avg_price_index) as avg_price_index,
        avg(features.pct_orders_discounted) as avg_pct_orders_discounted,
        avg(features.avg_order_value) as avg_order_value,
        avg(features.days_since_last_purchase) as avg_days_since_last_purchase,
        bool_and(segments.is_clustered) as is_clustered
    from segments
    inner join features
        on segments.customer_id = features.customer_id
    group by 1, 2

)

select * from final
