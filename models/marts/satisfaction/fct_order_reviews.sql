{#- One row per kept order review written on or before as_of_date, with
    the customer of the order it reviews (through fct_orders). -#}
with

reviews as (

    select * from {{ ref('int_order_reviews_validated') }}
    where row_status = 'kept'

),

orders as (

    select * from {{ ref('fct_orders') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

final as (

    select
        reviews.review_id,
        reviews.order_id,
        orders.customer_id,
        reviews.product_id,
        reviews.review_comment,
        reviews.review_score,
        reviews.product_id is not null as is_product_review,
        reviews.review_score >= 4 as is_positive,
        reviews.review_score <= 2 as is_negative,
        cast(reviews.reviewed_at as date) as reviewed_date,
        reviews.reviewed_at
    from reviews
    inner join orders
        on reviews.order_id = orders.order_id
    inner join as_of
        on cast(reviews.reviewed_at as date) <= as_of.as_of_date

)

select * from final
