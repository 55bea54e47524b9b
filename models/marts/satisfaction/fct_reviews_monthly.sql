{#- One row per month with order reviews up to as_of_date: counts by
    sentiment (positive 4-5, neutral 3, negative 1-2) and the mean score. -#}
with

reviews as (

    select * from {{ ref('fct_order_reviews') }}

),

monthly as (

    select
        cast(date_trunc('month', reviewed_date) as date) as review_month,
        count(*) as count_reviews,
        count(*) filter (where is_positive) as count_positive_reviews,
        count(*) filter (
            where not is_positive and not is_negative
        ) as count_neutral_reviews,
        count(*) filter (where is_negative) as count_negative_reviews,
        cast(sum(review_score) as bigint) as sum_review_score
    from reviews
    group by 1

),

final as (

    select
        review_month,
        count_reviews,
        count_positive_reviews,
        count_neutral_reviews,
        count_negative_reviews,
        sum_review_score,
        round(sum_review_score / count_reviews, 2) as avg_review_score,
        round(count_positive_reviews / count_reviews, 4)
            as pct_positive_reviews,
        round(count_negative_reviews / count_reviews, 4)
            as pct_negative_reviews
    from monthly

)

select * from final
