{#- Every raw order review row with its fate. Reviews are quarantined,
    first reason wins, when their order exists in no order row
    (unknown_order), their product is not a kept product (unknown_product),
    or their order was itself quarantined (parent_quarantined): the review's
    own defects come before inherited ones. Of two rows of one review_id
    the later reviewed_at (then the later file row) is kept. -#}
with

reviews as (

    select * from {{ ref('stg_shop__order_reviews') }}

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

    select product_id
    from products
    where row_status = 'kept'

),

checked as (

    select
        reviews.* exclude (dq_reason),
        coalesce(
            reviews.dq_reason,
            case
                when order_fates.order_id is null then 'unknown_order'
                when
                    reviews.product_id is not null
                    and kept_products.product_id is null
                    then 'unknown_product'
                when not order_fates.has_kept_row then 'parent_quarantined'
            end
        ) as dq_reason
    from reviews
    left join order_fates
        on reviews.order_id = order_fates.order_id
    left join kept_products
        on reviews.product_id = kept_products.product_id

),

triaged as (

    {{ triage_rows(
        'checked',
        ['review_id'],
        'reviewed_at desc nulls last, source_row_number desc'
    ) }}

)

select * from triaged
