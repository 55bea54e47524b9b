{#- One row per customer in dim_customers: historical value up to
    as_of_date and a value tier among buyers. -#}
with

customers as (

    select * from {{ ref('int_customers_enriched') }}

),

order_summary as (

    select * from {{ ref('int_customer_order_summary') }}

),

joined as (

    select
        customers.customer_id,
        customers.count_completed_orders,
        customers.lifetime_gross_revenue,
        customers.lifetime_net_revenue,
        coalesce(order_summary.lifetime_returned_revenue, 0)
            as lifetime_returned_revenue,
        coalesce(order_summary.lifetime_cancelled_revenue, 0)
            as lifetime_cancelled_revenue,
        coalesce(order_summary.lifetime_pending_revenue, 0)
            as lifetime_pending_revenue,
        order_summary.lifetime_cost_of_goods,
        order_summary.lifetime_gross_margin,
        customers.is_buyer
    from customers
    left join order_summary
        on customers.customer_id = order_summary.customer_id

),

ranked as (

    select
        *,
        case
            when is_buyer
                then cume_dist() over (
                    partition by is_buyer order by lifetime_net_revenue desc
                )
        end as pct_buyers_at_or_above
    from joined

),

final as (

    select
        customer_id,
        case
            when not is_buyer then 'no purchase'
            when pct_buyers_at_or_above <= 0.01 then 'top 1%'
            when pct_buyers_at_or_above <= 0.05 then 'top 5%'
            when pct_buyers_at_or_above <= 0.20 then 'top 20%'
            else 'other buyers'
        end as value_tier,
        count_completed_orders,
        cast(lifetime_gross_revenue as {{ money_type() }})
            as lifetime_gross_revenue,
        cast(lifetime_net_revenue as {{ money_type() }})
            as lifetime_net_revenue,
        cast(lifetime_returned_revenue as {{ money_type() }})
            as lifetime_returned_revenue,
        cast(lifetime_cancelled_revenue as {{ money_type() }})
            as lifetime_cancelled_revenue,
        cast(lifetime_pending_revenue as {{ money_type() }})
            as lifetime_pending_revenue,
        cast(lifetime_cost_of_goods as {{ money_type() }})
            as lifetime_cost_of_goods,
        cast(lifetime_gross_margin as {{ money_type() }})
            as lifetime_gross_margin,
        case
            when lifetime_net_revenue > 0
                then round(lifetime_gross_margin / lifetime_net_revenue, 4)
        end as pct_gross_margin,
        case
            when count_completed_orders > 0
                then
                    cast(
                        lifetime_net_revenue / count_completed_orders
                        as {{ money_type() }}
                    )
        end as avg_order_value,
        round(
            lifetime_net_revenue / nullif(sum(lifetime_net_revenue) over (), 0),
            6
        ) as pct_of_total_net_revenue,
        pct_buyers_at_or_above,
        is_buyer
    from ranked

)

select * from final
