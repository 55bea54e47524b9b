{#- One row per month from the first order month to as_of_date's month:
    the headline KPIs. Revenue follows the accountant's rule: a sale counts
    in its order month at its value before refunds, and a refund counts in
    the month it was made (a refund never rewrites a closed month). Summed
    over the months, net revenue equals fct_orders' net_revenue. -#}
with

orders as (

    select * from {{ ref('fct_orders') }}

),

refunds as (

    select * from {{ ref('fct_refunds') }}

),

nps_monthly as (

    select * from {{ ref('fct_nps_monthly') }}

),

tickets as (

    select * from {{ ref('fct_support_tickets') }}

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

first_purchases as (

    select
        customer_id,
        cast(date_trunc('month', min(order_date)) as date) as first_month
    from orders
    where is_completed
    group by 1

),

order_kpis as (

    select
        cast(date_trunc('month', orders.order_date) as date) as kpi_month,
        count(*) filter (
            where orders.order_status <> 'credit_note'
        ) as count_orders,
        count(*) filter (where orders.is_completed) as count_completed_orders,
        sum(orders.gross_revenue) as sum_gross_revenue,
        {#- the sale before its refunds, which count in their own month -#}
        sum(orders.net_revenue + orders.refunded_amount)
            as sum_sales_revenue,
        count(distinct orders.customer_id) filter (
            where orders.is_completed
        ) as count_active_customers
    from orders
    group by 1

),

refund_kpis as (

    select
        cast(date_trunc('month', refund_date) as date) as kpi_month,
        sum(refund_amount) as sum_refunded_amount
    from refunds
    group by 1

),

revenue as (

    select
        months.kpi_month,
        coalesce(order_kpis.sum_sales_revenue, 0)
        - coalesce(refund_kpis.sum_refunded_amount, 0) as sum_net_revenue,
        coalesce(refund_kpis.sum_refunded_amount, 0) as sum_refunded_amount
    from months
    left join order_kpis
        on months.kpi_month = order_kpis.kpi_month
    left join refund_kpis
        on months.kpi_month = refund_kpis.kpi_month

),

new_customers as (

    select
        first_month as kpi_month,
        count(*) as count_new_customers
    from first_purchases
    group by 1

),

{#- A churn event: var churn_inactivity_days pass after a purchase day with
    no next purchase in between; dated at purchase + that many days. #}

purchase_days as (

    select distinct
        customer_id,
        order_date
    from orders
    where is_completed

),

purchase_gaps as (

    select
        customer_id,
        order_date,
        lead(order_date) over (
            partition by customer_id order by order_date
        ) as next_order_date
    from purchase_days

),

churn_events as (

    select
        cast(
            date_trunc(
                'month',
                purchase_gaps.order_date
                + {{ var('churn_inactivity_days') }}
            ) as date
        ) as kpi_month,
        count(*) as count_churned_customers
    from purchase_gaps
    cross join as_of
    where
        purchase_gaps.order_date + {{ var('churn_inactivity_days') }}
        <= as_of.as_of_date
        and (
            purchase_gaps.next_order_date is null
            or purchase_gaps.next_order_date
            > purchase_gaps.order_date + {{ var('churn_inactivity_days') }}
        )
    group by 1

),

ticket_kpis as (

    select
        cast(date_trunc('month', opened_date) as date) as kpi_month,
        count(*) as count_tickets_opened
    from tickets
    group by 1

),

final as (

    select
        months.kpi_month,
        coalesce(order_kpis.count_orders, 0) as count_orders,
        coalesce(order_kpis.count_completed_orders, 0)
            as count_completed_orders,
        cast(coalesce(order_kpis.sum_gross_revenue, 0) as {{ money_type() }})
            as sum_gross_revenue,
        cast(revenue.sum_net_revenue as {{ money_type() }}) as sum_net_revenue,
        cast(revenue.sum_refunded_amount as {{ money_type() }})
            as sum_refunded_amount,
        case
            when order_kpis.count_completed_orders > 0
                then
                    cast(
                        revenue.sum_net_revenue
                        / order_kpis.count_completed_orders
                        as {{ money_type() }}
                    )
        end as avg_order_value,
        coalesce(order_kpis.count_active_customers, 0)
            as count_active_customers,
        coalesce(new_customers.count_new_customers, 0) as count_new_customers,
        coalesce(order_kpis.count_active_customers, 0)
        - coalesce(new_customers.count_new_customers, 0)
            as count_returning_customers,
        coalesce(churn_events.count_churned_customers, 0)
            as count_churned_customers,
        nps_monthly.nps,
        coalesce(nps_monthly.count_responses, 0) as count_nps_responses,
        coalesce(ticket_kpis.count_tickets_opened, 0) as count_tickets_opened
    from months
    inner join revenue
        on months.kpi_month = revenue.kpi_month
    left join order_kpis
        on months.kpi_month = order_kpis.kpi_month
    left join new_customers
        on months.kpi_month = new_customers.kpi_month
    left join churn_events
        on months.kpi_month = churn_events.kpi_month
    left join nps_monthly
        on months.kpi_month = nps_monthly.response_month
    left join ticket_kpis
        on months.kpi_month = ticket_kpis.kpi_month

)

select * from final
