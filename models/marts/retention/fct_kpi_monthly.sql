{#- One row per month from the first order month to as_of_date's month:
    the headline KPIs, summed over customers from fct_customer_months
    (where they are defined: revenue by the accountant's rule, active, new
    and churned customers). Summed over the months, net revenue equals
    fct_orders' net_revenue. -#}
with

customer_months as (

    select * from {{ ref('fct_customer_months') }}

),

orders as (

    select * from {{ ref('int_orders_enriched') }}

),

nps_monthly as (

    select * from {{ ref('fct_nps_monthly') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

months as (

    select
        cast(
            unnest(
                generate_series(
                    min(date_trunc('month', orders.order_date)),
                    max(date_trunc('month', as_of.as_of_date)),
                    interval 1 month
                )
            ) as date
        ) as kpi_month
    from orders
    cross join as_of

),

monthly as (

    select
        kpi_month,
        sum(count_orders) as count_orders,
        sum(count_completed_orders) as count_completed_orders,
        sum(sum_gross_revenue) as sum_gross_revenue,
        sum(sum_net_revenue) as sum_net_revenue,
        sum(sum_refunded_amount) as sum_refunded_amount,
        count(*) filter (where is_active) as count_active_customers,
        count(*) filter (where is_new) as count_new_customers,
        sum(count_churn_events) as count_churned_customers,
        sum(count_tickets_opened) as count_tickets_opened
    from customer_months
    group by 1

),

final as (

    select
        months.kpi_month,
        cast(coalesce(monthly.count_orders, 0) as bigint) as count_orders,
        cast(coalesce(monthly.count_completed_orders, 0) as bigint)
            as count_completed_orders,
        cast(coalesce(monthly.sum_gross_revenue, 0) as {{ money_type() }})
            as sum_gross_revenue,
        cast(coalesce(monthly.sum_net_revenue, 0) as {{ money_type() }})
            as sum_net_revenue,
        cast(coalesce(monthly.sum_refunded_amount, 0) as {{ money_type() }})
            as sum_refunded_amount,
        case
            when monthly.count_completed_orders > 0
                then
                    cast(
                        monthly.sum_net_revenue / monthly.count_completed_orders
                        as {{ money_type() }}
                    )
        end as avg_order_value,
        coalesce(monthly.count_active_customers, 0) as count_active_customers,
        coalesce(monthly.count_new_customers, 0) as count_new_customers,
        coalesce(monthly.count_active_customers, 0)
        - coalesce(monthly.count_new_customers, 0)
            as count_returning_customers,
        cast(coalesce(monthly.count_churned_customers, 0) as bigint)
            as count_churned_customers,
        nps_monthly.nps,
        coalesce(nps_monthly.count_responses, 0) as count_nps_responses,
        cast(coalesce(monthly.count_tickets_opened, 0) as bigint)
            as count_tickets_opened
    from months
    left join monthly
        on months.kpi_month = monthly.kpi_month
    left join nps_monthly
        on months.kpi_month = nps_monthly.response_month

)

select * from final
