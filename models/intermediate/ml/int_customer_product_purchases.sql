{#- What each customer bought of each product, as counts of completed order
    lines: the input of the recommendation models, aggregated here so that
    they read one row per customer x product instead of every line. The
    holdout split is as_of_date - var recommendation_holdout_days: lines
    on or before it train the evaluation model, later ones judge it. -#}
with

lines as (

    select
        customer_id,
        product_id,
        order_date
    from {{ ref('fct_order_items') }}
    where is_completed and customer_id is not null and product_id is not null

),

split as (

    select
        cast(as_of_date - {{ var('recommendation_holdout_days') }} as date)
            as holdout_start_date
    from {{ ref('int_as_of_date') }}

),

final as (

    select
        lines.customer_id,
        lines.product_id,
        count(*) as count_lines,
        count(*) filter (where lines.order_date <= split.holdout_start_date)
            as count_lines_before_holdout,
        count(*) filter (where lines.order_date > split.holdout_start_date)
            as count_lines_in_holdout
    from lines
    cross join split
    group by 1, 2

)

select * from final
