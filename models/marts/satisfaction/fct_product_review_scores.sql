{#- One row per product with at least one order review up to as_of_date. A
    product review counts for its product; a whole-order review counts once
    for every product on the order's kept lines (fct_order_items). -#}
with

reviews as (

    select * from {{ ref('fct_order_reviews') }}

),

order_items as (

    select * from {{ ref('fct_order_items') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

order_products as (

    select distinct
        order_id,
        product_id
    from order_items

),

reviewed_products as (

    select
        reviews.review_id,
        reviews.product_id,
        reviews.is_product_review,
        reviews.review_score,
        reviews.is_positive,
        reviews.is_negative
    from reviews
    where reviews.is_product_review

    union all

    select
        reviews.review_id,
        order_products.product_id,
        reviews.is_product_review,
        reviews.review_score,
        reviews.is_positive,
        reviews.is_negative
    from reviews
    inner join order_products
        on reviews.order_id = order_products.order_id
    where not reviews.is_product_review

),

product_scores as (

    select
        product_id,
        count(*) as count_reviews,
        count(*) filter (where is_product_review) as count_product_reviews,
        count(*) filter (where not is_product_review) as count_order_reviews,
        count(*) filter (where is_positive) as count_positive_reviews,
        count(*) filter (where is_negative) as count_negative_reviews,
        cast(sum(review_score) as bigint) as sum_review_score
    from reviewed_products
    group by 1

),

final as (

    select
        product_scores.product_id,
        products.product_name,
        products.category,
        product_scores.count_reviews,
        product_scores.count_product_reviews,
        product_scores.count_order_reviews,
        product_scores.count_positive_reviews,
        product_scores.count_negative_reviews,
        product_scores.sum_review_score,
        round(
            product_scores.sum_review_score / product_scores.count_reviews, 2
        ) as avg_review_score,
        round(
            product_scores.count_positive_reviews
            / product_scores.count_reviews,
            4
        ) as pct_positive_reviews,
        round(
            product_scores.count_negative_reviews
            / product_scores.count_reviews,
            4
        ) as pct_negative_reviews
    from product_scores
    left join products
        on product_scores.product_id = products.product_id

)

select * from final
