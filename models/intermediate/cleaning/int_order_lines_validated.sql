{#- Every raw order line row with its fate. Lines are quarantined, first
    reason wins, when their order exists in no order row (unknown_order),
    the product is unknown, the price is absurd against the list price
    (invalid_price), or their order was itself quarantined
    (parent_quarantined): the line's own defects come before inherited
    ones. -#}
with

order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

orders as (

    select * from {{ ref('int_orders_validated') }}

),

products as (

    select * from {{ ref('int_products_validated') }}

),

order_fates as (

    select
        order_id,
        bool_or(row_status = 'kept') as has_kept_row
    from orders
    where order_id is not null
    group by 1

),

kept_products as (

    select
        product_id,
        list_price
    from products
    where row_status = 'kept'

),

checked as (

    select
        order_lines.* exclude (dq_reason),
        coalesce(
            order_lines.dq_reason,
            case
                when order_fates.order_id is null then 'unknown_order'
                when kept_products.product_id is null then 'unknown_product'
                when
                    order_lines.unit_price
                    > {{ var('max_price_to_list_ratio') }}
                    * kept_products.list_price
                    then 'invalid_price'
                when not order_fates.has_kept_row then 'parent_quarantined'
            end
        ) as dq_reason
    from order_lines
    left join order_fates
        on order_lines.order_id = order_fates.order_id
    left join kept_products
        on order_lines.product_id = kept_products.product_id

),

triaged as (

    {{ triage_rows(
        'checked',
        ['order_id', 'line_number'],
        'source_row_number desc'
    ) }}

)

select * from triaged
