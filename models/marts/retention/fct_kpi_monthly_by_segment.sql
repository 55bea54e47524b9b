{#- One row per month x behavioural segment x country with any activity:
    the additive measures of the monthly KPIs (fct_customer_months,
    their one definition) summed over the customers of that segment and
    country, so that a BI tool or the dashboard gets any subset's KPIs by
    summing rows, and ratios (average order value, NPS, churn rate) from
    the sums. Labels as the dashboard filters them: 'non-buyer' for a
    customer without a segment, 'unknown' without a country. -#}
with

customer_months as (

    select * from {{ ref('fct_customer_months') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

labelled as (

    select
        customer_months.*,
        coalesce(customers.segment_name, 'non-buyer') as segment_name,
        coalesce(customers.country_code, 'unknown') as country_code
    from customer_months
    left join customers
        on customer_months.customer_id = customers.customer_id

),

summed as (

    select
        kpi_month,
        segment_name,
        country_code,
        sum(count_orders) as count_orders,
        sum(count_completed_orders) as count_completed_orders,
        sum(sum_gross_revenue) as sum_gross_revenue,
        sum(sum_net_revenue) as sum_net_revenue,
        sum(sum_refunded_amount) as sum_refunded_amount,
        count(*) filter (where is_active) as count_active_customers,
        count(*) filter (where is_new) as count_new_customers,
        sum(count_churn_events) as count_churned_customers,
        sum(count_nps_responses) as count_nps_responses,
        sum(count_promoters) as count_promoters,
        sum(count_detractors) as count_detractors,
        sum(count_tickets_opened) as count_tickets_opened
    from labelled
    group by 1, 2, 3

),

final as (

    select
        kpi_month || ':' || segment_name || ':' || country_code
            as kpi_segment_id,
        segment_name,
        country_code,
        cast(count_orders as bigint) as count_orders,
        cast(count_completed_orders as bigint) as count_completed_orders,
        cast(sum_gross_revenue as {{ money_type() }}) as sum_gross_revenue,
        cast(sum_net_revenue as {{ money_type() }}) as sum_net_revenue,
        cast(sum_refunded_amount as {{ money_type() }})
            as sum_refunded_amount,
        count_active_customers,
        count_new_customers,
        cast(count_churned_customers as bigint) as count_churned_customers,
        cast(count_nps_responses as bigint) as count_nps_responses,
        cast(count_promoters as bigint) as count_promoters,
        cast(count_detractors as bigint) as count_detractors,
        cast(count_tickets_opened as bigint) as count_tickets_opened,
        kpi_month
    from summed

)

select * from final
