{#- One row per acquisition cohort (month of first completed order) x
    months since that month, from month 0 to as_of_date's month. -#}
with

orders as (

    select * from {{ ref('fct_orders') }}
    where is_completed

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

customer_months as (

    select
        customer_id,
        cast(date_trunc('month', order_date) as date) as activity_month,
        sum(net_revenue) as net_revenue
    from orders
    group by 1, 2

),

cohorts as (

    select
        customer_id,
        min(activity_month) as cohort_month
    from customer_months
    group by 1

),

cohort_sizes as (

    select
        cohort_month,
        count(*) as count_cohort_customers
    from cohorts
    group by 1

),

cohort_grid as (

    select
        cohort_sizes.cohort_month,
        cohort_sizes.count_cohort_customers,
        unnest(
            range(
                0,
                date_diff(
                    'month',
                    cohort_sizes.cohort_month,
                    cast(date_trunc('month', as_of.as_of_date) as date)
                ) + 1
            )
        ) as months_since_first_order
    from cohort_sizes
    cross join as_of

),

cohort_activity as (

    select
        cohorts.cohort_month,
        date_diff(
            'month', cohorts.cohort_month, customer_months.activity_month
        ) as months_since_first_order,
        count(*) as count_active_customers,
        sum(customer_months.net_revenue) as net_revenue
    from customer_months
    inner join cohorts
        on customer_months.customer_id = cohorts.customer_id
    group by 1, 2

),

filled as (

    select
        cohort_grid.cohort_month,
        cohort_grid.months_since_first_order,
        cohort_grid.count_cohort_customers,
        coalesce(cohort_activity.count_active_customers, 0)
            as count_active_customers,
        coalesce(cohort_activity.net_revenue, 0) as net_revenue
    from cohort_grid
    left join cohort_activity
        on
            cohort_grid.cohort_month = cohort_activity.cohort_month
            and cohort_grid.months_since_first_order
            = cohort_activity.months_since_first_order

),

final as (

    select
        strftime(cohort_month, '%Y-%m') || ':'
        || months_since_first_order as cohort_month_id,
        cohort_month,
        cast(
            cohort_month + to_months(cast(months_since_first_order as integer))
            as date
        ) as activity_month,
        cast(months_since_first_order as integer) as months_since_first_order,
        count_cohort_customers,
        count_active_customers,
        round(count_active_customers / count_cohort_customers, 6)
            as pct_retained,
        cast(net_revenue as {{ money_type() }}) as net_revenue,
        cast(
            sum(net_revenue)
                over (
                    partition by cohort_month
                    order by months_since_first_order
                )
            / count_cohort_customers
            as {{ money_type() }}
        ) as cumulative_net_revenue_per_customer
    from filled

)

select * from final
