{#- One row per kept order from any system (shop orders and orders built
    from the transactions file), with its resolved customer and its money:
    gross_revenue = line value - line discounts - order discount (merchandise,
    excluding shipping); net_revenue = gross_revenue for completed orders and
    0 for cancelled or returned ones. Not cut at as_of_date. -#}
with

orders as (

    select * from {{ ref('int_orders_validated') }}
    where row_status = 'kept'

),

order_lines as (

    select * from {{ ref('int_order_lines_validated') }}
    where row_status = 'kept'

),

products as (

    select * from {{ ref('int_products_validated') }}
    where row_status = 'kept'

),

transactions as (

    select * from {{ ref('int_transactions_validated') }}
    where row_status = 'kept'

),

identity_map as (

    select * from {{ ref('int_customer_identity_map') }}

),

line_totals as (

    select
        order_lines.order_id,
        count(*) as count_lines,
        sum(order_lines.quantity) as sum_quantity,
        sum(order_lines.quantity * order_lines.unit_price) as lines_amount,
        sum(order_lines.line_discount) as line_discount_amount,
        sum(order_lines.quantity * products.unit_cost) as cost_of_goods
    from order_lines
    left join products
        on order_lines.product_id = products.product_id
    group by 1

),

shop_orders as (

    select
        orders.order_id,
        identity_map.customer_id,
        'shop' as source_system,
        orders.order_status,
        orders.channel,
        coalesce(line_totals.count_lines, 0) as count_lines,
        coalesce(line_totals.sum_quantity, 0) as sum_quantity,
        coalesce(line_totals.lines_amount, 0) as lines_amount,
        coalesce(line_totals.line_discount_amount, 0) as line_discount_amount,
        orders.discount_amount as order_discount_amount,
        orders.shipping_amount,
        greatest(
            coalesce(line_totals.lines_amount, 0)
            - coalesce(line_totals.line_discount_amount, 0)
            - orders.discount_amount,
            0
        ) as gross_revenue,
        line_totals.cost_of_goods,
        orders.ordered_at
    from orders
    inner join identity_map
        on
            identity_map.source_system = 'shop'
            and orders.account_id = identity_map.source_customer_id
    left join line_totals
        on orders.order_id = line_totals.order_id

),

transaction_orders as (

    select
        coalesce(
            transactions.order_id,
            'T' || transactions.source_row_number
        ) as order_id,
        identity_map.customer_id,
        'transactions' as source_system,
        case
            when sum(transactions.amount) < 0 then 'returned'
            else 'completed'
        end as order_status,
        null as channel,
        0 as count_lines,
        0 as sum_quantity,
        greatest(sum(transactions.amount), 0) as lines_amount,
        0 as line_discount_amount,
        0 as order_discount_amount,
        0 as shipping_amount,
        greatest(sum(transactions.amount), 0) as gross_revenue,
        cast(null as decimal(18, 2)) as cost_of_goods,
        min(transactions.transacted_at) as ordered_at
    from transactions
    inner join identity_map
        on
            identity_map.source_system = 'transactions'
            and transactions.customer_source_id
            = identity_map.source_customer_id
    group by 1, 2

),

all_orders as (

    select * from shop_orders
    union all
    select * from transaction_orders

),

final as (

    select
        order_id,
        customer_id,
        source_system,
        order_status,
        channel,
        cast(count_lines as bigint) as count_lines,
        cast(sum_quantity as bigint) as sum_quantity,
        cast(lines_amount as decimal(18, 2)) as lines_amount,
        cast(line_discount_amount as decimal(18, 2)) as line_discount_amount,
        cast(order_discount_amount as decimal(18, 2))
            as order_discount_amount,
        cast(shipping_amount as decimal(18, 2)) as shipping_amount,
        cast(gross_revenue as decimal(18, 2)) as gross_revenue,
        cast(
            case when order_status = 'completed' then gross_revenue else 0 end
            as decimal(18, 2)
        ) as net_revenue,
        cast(cost_of_goods as decimal(18, 2)) as cost_of_goods,
        order_status = 'completed' as is_completed,
        cast(ordered_at as date) as order_date,
        ordered_at
    from all_orders

)

select * from final
