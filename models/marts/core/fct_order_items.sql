{#- One row per kept order line of the orders in fct_orders. A credit
    document's lines are not here: its refund is in fct_refunds and nets
    against the order it matched. -#}
with

order_lines as (

    select * from {{ ref('int_order_lines_validated') }}
    where row_status = 'kept'

),

orders as (

    select * from {{ ref('fct_orders') }}
    where order_status <> 'credit_note'

),

products as (

    select * from {{ ref('dim_products') }}

),

final as (

    select
        order_lines.order_id || '-' || order_lines.line_number
            as order_item_id,
        order_lines.order_id,
        orders.customer_id,
        order_lines.product_id,
        orders.order_status,
        order_lines.line_number,
        order_lines.quantity,
        order_lines.unit_price,
        order_lines.line_discount,
        {#- line money keeps the prices' 4 decimals; order money is cents -#}
        cast(
            order_lines.quantity * order_lines.unit_price as {{ money_type(4) }}
        )
            as gross_line_amount,
        cast(
            order_lines.quantity * order_lines.unit_price
            - order_lines.line_discount as {{ money_type(4) }}
        ) as net_line_amount,
        cast(order_lines.quantity * products.unit_cost as {{ money_type(4) }})
            as line_cost,
        order_lines.line_discount > 0 as is_discounted,
        orders.is_completed,
        orders.order_date,
        orders.ordered_at
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join products
        on order_lines.product_id = products.product_id

)

select * from final
