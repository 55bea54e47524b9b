{#- One row per customer x category bought (completed orders up to
    as_of_date): spend, units and their shares of the customer's total, and
    the category's rank by spend. The one place for share of wallet. -#}
with

order_items as (

    select * from {{ ref('fct_order_items') }}
    where is_completed

),

products as (

    select * from {{ ref('dim_products') }}

),

category_totals as (

    select
        order_items.customer_id,
        coalesce(products.category, 'unknown') as category,
        sum(order_items.line_amount_after_discount) as sum_line_amount,
        sum(order_items.quantity) as sum_quantity
    from order_items
    left join products
        on order_items.product_id = products.product_id
    group by 1, 2

),

final as (

    select
        customer_id || ':' || category as customer_category_id,
        customer_id,
        category,
        cast(sum_line_amount as {{ money_type() }})
            as sum_line_amount_after_discount,
        cast(sum_quantity as bigint) as sum_quantity,
        round(
            sum_line_amount
            / nullif(sum(sum_line_amount) over (partition by customer_id), 0),
            6
        ) as pct_spend,
        round(
            sum_quantity
            / nullif(sum(sum_quantity) over (partition by customer_id), 0),
            6
        ) as pct_quantity,
        row_number() over (
            partition by customer_id
            order by sum_line_amount desc, category asc
        ) as category_rank
    from category_totals

)

select * from final
