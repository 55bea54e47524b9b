{#- One row per order placed on or before as_of_date, and one per refund
    made by then that matched no order (status credit_note): the published
    face of int_orders_enriched, which owns the logic. Incremental by customer
    as that model is: a run copies the rows of the customers it rebuilt
    since the mart's latest built_at. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=by_customer_pre_hooks(
        "published_changed_customers('int_orders_enriched')"
    )
) }}

{{ rebuild_in_full_when([], required_column='built_at') }}

with

orders as (

    select * from {{ ref('int_orders_enriched') }}
    where {{ of_changed_customers() }}

),

final as (

    select
        order_id,
        customer_id,
        source_system,
        order_status,
        channel,
        customer_order_number,
        count_lines,
        sum_quantity,
        lines_amount,
        line_discount_amount,
        order_discount_amount,
        shipping_amount,
        gross_revenue,
        refunded_amount,
        net_revenue,
        cost_of_goods,
        is_completed,
        is_cancelled,
        is_returned,
        is_repeat_order,
        order_date,
        ordered_at,
        built_at
    from orders

)

select * from final
