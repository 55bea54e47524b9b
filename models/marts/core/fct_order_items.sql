{#- One row per kept order line of the orders in fct_orders (credit
    documents aside): the published face of int_order_items_enriched,
    which owns the logic. Incremental by customer
    as that model is: a run copies the rows of the customers it rebuilt
    since the mart's latest built_at. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=by_customer_pre_hooks(
        "published_changed_customers('int_order_items_enriched')"
    )
) }}

{{ rebuild_in_full_when([], required_column='built_at') }}

with

order_items as (

    select * from {{ ref('int_order_items_enriched') }}
    where {{ of_changed_customers() }}

),

final as (

    select
        order_item_id,
        order_id,
        customer_id,
        product_id,
        order_status,
        line_number,
        quantity,
        unit_price,
        line_discount,
        gross_line_amount,
        line_amount_after_discount,
        line_cost,
        is_discounted,
        is_completed,
        order_date,
        ordered_at,
        built_at
    from order_items

)

select * from final
