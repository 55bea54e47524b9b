{#- Summed over every segment and country, the audience KPIs equal the
    company KPIs of every month of fct_kpi_monthly: the two marts share one
    definition (fct_customer_months), and this keeps them from
    drifting. (fct_kpi_monthly starts at the first order month; a survey
    or ticket before it is in the audience mart only.) -#}
with

by_segment as (

    select
        kpi_month,
        sum(count_orders) as count_orders,
        sum(count_completed_orders) as count_completed_orders,
        sum(sum_gross_revenue) as sum_gross_revenue,
        sum(sum_net_revenue) as sum_net_revenue,
        sum(sum_refunded_amount) as sum_refunded_amount,
        sum(count_active_customers) as count_active_customers,
        sum(count_new_customers) as count_new_customers,
        sum(count_churned_customers) as count_churned_customers,
        sum(count_nps_responses) as count_nps_responses,
        sum(count_tickets_opened) as count_tickets_opened
    from {{ ref('fct_kpi_monthly_by_segment') }}
    group by 1

),

company as (

    select * from {{ ref('fct_kpi_monthly') }}

)

select company.kpi_month
from company
left join by_segment
    on company.kpi_month = by_segment.kpi_month
where
    coalesce(by_segment.count_orders, 0) <> company.count_orders
    or coalesce(by_segment.count_completed_orders, 0)
    <> company.count_completed_orders
    or coalesce(by_segment.sum_gross_revenue, 0) <> company.sum_gross_revenue
    or coalesce(by_segment.sum_net_revenue, 0) <> company.sum_net_revenue
    or coalesce(by_segment.sum_refunded_amount, 0)
    <> company.sum_refunded_amount
    or coalesce(by_segment.count_active_customers, 0)
    <> company.count_active_customers
    or coalesce(by_segment.count_new_customers, 0)
    <> company.count_new_customers
    or coalesce(by_segment.count_churned_customers, 0)
    <> company.count_churned_customers
    or coalesce(by_segment.count_nps_responses, 0)
    <> company.count_nps_responses
    or coalesce(by_segment.count_tickets_opened, 0)
    <> company.count_tickets_opened
