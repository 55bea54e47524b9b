{#- Customer activity by month, and the monthly KPIs' one definition, at
    the finest grain they add up from: one row per customer x month with an
    order, a refund, a churn event, an NPS response or a ticket, up to
    as_of_date. fct_customer_months publishes it; fct_kpi_monthly sums it
    over customers, fct_kpi_monthly_by_segment over the customers of a
    segment and country, fct_nps_monthly over the responses; the semantic
    layer's KPI metrics are defined on it.
      revenue   the accountant's rule: a sale counts in its order month at
                its value before refunds (sum_sales_revenue), a refund in
                the month it was made; sum_net_revenue = the two netted, so
                a refund never rewrites a closed month;
      customers active: a completed order in the month; new: the month of
                the first completed order; a churn event: var
                churn_inactivity_days pass after a purchase day with no next
                purchase in between, dated at purchase + that many days.

    Incremental by customer: a run rebuilds the rows of the customers that
    customer_months_changed_customers finds, after deleting theirs; a
    changed churn_inactivity_days rebuilds it in full. Every run equals a
    full refresh. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=by_customer_pre_hooks('customer_months_changed_customers')
) }}

{{ rebuild_in_full_when([{
    'query': "select count(*) > 0 from " ~ this
        ~ " where built_churn_inactivity_days <> "
        ~ var('churn_inactivity_days'),
    'why': 'churn_inactivity_days changed',
}], required_column='built_at') }}

with

orders as (

    select * from {{ ref('int_orders_enriched') }}
    where {{ of_changed_customers() }}

),

refunds as (

    select * from {{ ref('int_order_refunds') }}
    where {{ of_changed_customers() }}

),

history as (

    select * from {{ ref('int_customer_order_history') }}
    where {{ of_changed_customers() }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

order_months as (

    select
        customer_id,
        cast(date_trunc('month', order_date) as date) as kpi_month,
        count(*) as count_order_rows,
        count(*) filter (where order_status <> 'credit_note') as count_orders,
        count(*) filter (where is_completed) as count_completed_orders,
        sum(gross_revenue) as sum_gross_revenue,
        {#- the sale before its refunds, which count in their own month -#}
        sum(net_revenue + refunded_amount) as sum_sales_revenue
    from orders
    group by 1, 2

),

refund_months as (

    select
        customer_id,
        cast(date_trunc('month', refund_date) as date) as kpi_month,
        sum(refund_amount) as sum_refunded_amount
    from refunds
    group by 1, 2

),

purchase_gaps as (

    select
        customer_id,
        order_date,
        lead(order_date) over (
            partition by customer_id order by order_date
        ) as next_order_date
    from (
        select distinct
            customer_id,
            order_date
        from orders
        where is_completed
    ) as purchase_days

),

churn_months as (

    select
        purchase_gaps.customer_id,
        cast(
            date_trunc(
                'month',
                purchase_gaps.order_date
                + {{ var('churn_inactivity_days') }}
            ) as date
        ) as kpi_month,
        count(*) as count_churn_events
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
    group by 1, 2

),

satisfaction_months as (

    {{ customer_satisfaction_months() }}
    where {{ of_changed_customers() }}

),

customer_months as (

    select
        customer_id,
        kpi_month
    from order_months
    union
    select
        customer_id,
        kpi_month
    from refund_months
    union
    select
        customer_id,
        kpi_month
    from churn_months
    union
    select
        customer_id,
        kpi_month
    from satisfaction_months

),

final as (

    select
        customer_months.customer_id || ':' || customer_months.kpi_month
            as customer_month_id,
        customer_months.customer_id,
        coalesce(order_months.count_orders, 0) as count_orders,
        coalesce(order_months.count_completed_orders, 0)
            as count_completed_orders,
        cast(
            coalesce(order_months.sum_gross_revenue, 0) as {{ money_type() }}
        ) as sum_gross_revenue,
        cast(
            coalesce(order_months.sum_sales_revenue, 0) as {{ money_type() }}
        ) as sum_sales_revenue,
        cast(
            coalesce(refund_months.sum_refunded_amount, 0)
            as {{ money_type() }}
        ) as sum_refunded_amount,
        cast(
            coalesce(order_months.sum_sales_revenue, 0)
            - coalesce(refund_months.sum_refunded_amount, 0)
            as {{ money_type() }}
        ) as sum_net_revenue,
        coalesce(churn_months.count_churn_events, 0) as count_churn_events,
        coalesce(satisfaction_months.count_nps_responses, 0)
            as count_nps_responses,
        coalesce(satisfaction_months.count_promoters, 0) as count_promoters,
        coalesce(satisfaction_months.count_passives, 0) as count_passives,
        coalesce(satisfaction_months.count_detractors, 0) as count_detractors,
        coalesce(satisfaction_months.count_tickets_opened, 0)
            as count_tickets_opened,
        coalesce(order_months.count_completed_orders, 0) > 0 as is_active,
        coalesce(
            customer_months.kpi_month
            = cast(
                date_trunc('month', history.first_purchase_date) as date
            ),
            false
        ) as is_new,
        customer_months.kpi_month,
        {#- what the changed-customer rule reads -#}
        coalesce(order_months.count_order_rows, 0) as count_order_rows,
        {{ var('churn_inactivity_days') }} as built_churn_inactivity_days,
        as_of.as_of_date as built_as_of_date,
        {{ run_timestamp() }} as built_at
    from customer_months
    cross join as_of
    left join order_months
        on
            customer_months.customer_id = order_months.customer_id
            and customer_months.kpi_month = order_months.kpi_month
    left join refund_months
        on
            customer_months.customer_id = refund_months.customer_id
            and customer_months.kpi_month = refund_months.kpi_month
    left join churn_months
        on
            customer_months.customer_id = churn_months.customer_id
            and customer_months.kpi_month = churn_months.kpi_month
    left join satisfaction_months
        on
            customer_months.customer_id = satisfaction_months.customer_id
            and customer_months.kpi_month = satisfaction_months.kpi_month
    left join history
        on customer_months.customer_id = history.customer_id

)

select * from final
