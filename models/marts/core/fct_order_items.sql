{#- One row per kept order line of the orders in fct_orders (credit
    documents aside): the published face of int_order_items_enriched,
    which owns the logic. -#}
with

order_items as (

    select * from {{ ref('int_order_items_enriched') }}

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
        ordered_at
    from order_items

)

select * from final
