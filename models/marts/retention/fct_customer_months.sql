{#- One row per customer x month with an order, a refund, a churn event, an
    NPS response or a ticket, up to as_of_date: the published face of
    int_customer_months, which owns the logic (revenue by the accountant's
    rule, active, new, churn events). Incremental by customer as that model
    is: a run copies the rows of the customers it rebuilt since the mart's
    latest built_at. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=by_customer_pre_hooks(
        "published_changed_customers('int_customer_months')"
    )
) }}

{{ rebuild_in_full_when([], required_column='built_at') }}

with

customer_months as (

    select * from {{ ref('int_customer_months') }}
    where {{ of_changed_customers() }}

),

final as (

    select
        customer_month_id,
        customer_id,
        count_orders,
        count_completed_orders,
        sum_gross_revenue,
        sum_sales_revenue,
        sum_refunded_amount,
        sum_net_revenue,
        count_churn_events,
        count_nps_responses,
        count_promoters,
        count_passives,
        count_detractors,
        count_tickets_opened,
        is_active,
        is_new,
        kpi_month,
        built_at
    from customer_months

)

select * from final
