{#- One row per behavioural segment of dim_customer_segments: its size,
    value and the mean of the features that define it, for naming, sizing
    and BI. Revenue shares and the profile means leave out the customers
    flagged by fct_customer_anomalies (a few bulk resellers would otherwise
    own a segment's revenue); the shares with them are kept beside. -#}
with

segments as (

    select * from {{ ref('dim_customer_segments') }}

),

features as (

    select * from {{ ref('int_customer_features_current') }}

),

anomalies as (

    select * from {{ ref('fct_customer_anomalies') }}

),

members as (

    select
        segments.segment_id,
        segments.segment_name,
        segments.is_clustered,
        coalesce(anomalies.is_anomaly, false) as is_anomaly,
        features.lifetime_net_revenue,
        case
            when not coalesce(anomalies.is_anomaly, false)
                then features.lifetime_net_revenue
        end as marketing_net_revenue,
        features.purchase_days_per_year,
        features.avg_lines_per_order,
        features.avg_units_per_line,
        features.avg_price_index,
        features.pct_orders_discounted,
        features.avg_order_value,
        features.days_since_last_purchase
    from segments
    inner join features
        on segments.customer_id = features.customer_id
    left join anomalies
        on segments.customer_id = anomalies.customer_id

),

final as (

    select
        segment_id,
        segment_name,
        count(*) as count_customers,
        count(*) filter (where is_clustered) as count_clustered_customers,
        count(*) filter (where is_anomaly) as count_anomalous_customers,
        count(*) / sum(count(*)) over () as pct_customers,
        coalesce(sum(marketing_net_revenue), 0) as sum_lifetime_net_revenue,
        coalesce(sum(marketing_net_revenue), 0)
        / nullif(sum(sum(marketing_net_revenue)) over (), 0)
            as pct_net_revenue,
        sum(lifetime_net_revenue) as sum_lifetime_net_revenue_with_anomalies,
        sum(lifetime_net_revenue)
        / nullif(sum(sum(lifetime_net_revenue)) over (), 0)
            as pct_net_revenue_with_anomalies,
        avg(marketing_net_revenue) as avg_lifetime_net_revenue,
        avg(purchase_days_per_year) filter (where not is_anomaly)
            as avg_purchase_days_per_year,
        avg(avg_lines_per_order) filter (where not is_anomaly)
            as avg_lines_per_order,
        avg(avg_units_per_line) filter (where not is_anomaly)
            as avg_units_per_line,
        avg(avg_price_index) filter (where not is_anomaly) as avg_price_index,
        avg(pct_orders_discounted) filter (where not is_anomaly)
            as avg_pct_orders_discounted,
        avg(avg_order_value) filter (where not is_anomaly) as avg_order_value,
        avg(days_since_last_purchase) filter (where not is_anomaly)
            as avg_days_since_last_purchase
    from members
    group by 1, 2

)

select * from final
