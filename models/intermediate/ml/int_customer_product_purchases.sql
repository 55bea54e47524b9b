{#- What each customer bought and returned of each product, as counts of
    order lines: the input of the recommendation models, aggregated here so
    that they read one row per customer x product instead of every line.
    Bought: lines of completed orders. Returned: lines of returned orders,
    of credit notes (int_order_refunds' credit_note refunds; a credit note lists
    the products it credits) and of completed orders refunded in full
    (net_revenue <= 0). The test split starts at as_of_date - var
    recommendation_holdout_days (the holdout start); the validation split
    the same number of days earlier: lines on or before a split's start
    train on it, later ones judge it.

    Incremental by customer: a run rebuilds the rows of the customers that
    product_purchases_changed_customers finds, after deleting theirs; a
    changed recommendation_holdout_days rebuilds it in full. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=by_customer_pre_hooks('product_purchases_changed_customers')
) }}

{{ rebuild_in_full_when([{
    'query': "select count(*) > 0 from " ~ this
        ~ " where built_holdout_days <> "
        ~ var('recommendation_holdout_days'),
    'why': 'recommendation_holdout_days changed',
}], required_column='built_holdout_days') }}

with

order_items as (

    select * from {{ ref('int_order_items_enriched') }}
    where
        customer_id is not null and product_id is not null
        and {{ of_changed_customers() }}

),

orders as (

    select * from {{ ref('int_orders_enriched') }}
    where {{ of_changed_customers() }}

),

refunds as (

    select * from {{ ref('int_order_refunds') }}
    where refund_source = 'credit_note' and {{ of_changed_customers() }}

),

order_lines as (

    select * from {{ ref('int_order_lines_validated') }}
    where row_status = 'kept' and product_id is not null

),

split as (

    select
        as_of_date,
        cast(as_of_date - {{ var('recommendation_holdout_days') }} as date)
            as holdout_start_date,
        cast(
            as_of_date - 2 * {{ var('recommendation_holdout_days') }} as date
        ) as validation_start_date
    from {{ ref('int_as_of_date') }}

),

bought_lines as (

    select
        order_items.customer_id,
        order_items.product_id,
        order_items.order_date as line_date,
        true as is_bought
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    where order_items.is_completed and orders.net_revenue > 0

),

returned_order_lines as (

    select
        order_items.customer_id,
        order_items.product_id,
        order_items.order_date as line_date,
        false as is_bought
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    where
        order_items.order_status = 'returned'
        or (order_items.is_completed and orders.net_revenue <= 0)

),

credit_note_lines as (

    select
        refunds.customer_id,
        order_lines.product_id,
        refunds.refund_date as line_date,
        false as is_bought
    from refunds
    inner join order_lines
        on refunds.refund_id = order_lines.order_id

),

all_lines as (

    select * from bought_lines
    union all
    select * from returned_order_lines
    union all
    select * from credit_note_lines

),

dated_lines as (

    select
        all_lines.customer_id,
        all_lines.product_id,
        all_lines.is_bought,
        all_lines.line_date <= split.validation_start_date
            as is_before_validation,
        all_lines.line_date <= split.holdout_start_date as is_before_holdout
    from all_lines
    cross join split

),

counts as (

    select
        customer_id,
        product_id,
        count(*) filter (where is_bought) as count_lines,
        count(*) filter (where is_bought and is_before_validation)
            as count_lines_before_validation,
        count(*) filter (where is_bought and is_before_holdout)
            as count_lines_before_holdout,
        count(*) filter (where is_bought and not is_before_holdout)
            as count_lines_in_holdout,
        count(*) filter (where not is_bought) as count_returned_lines,
        count(*) filter (where not is_bought and is_before_validation)
            as count_returned_lines_before_validation,
        count(*) filter (where not is_bought and is_before_holdout)
            as count_returned_lines_before_holdout
    from dated_lines
    group by 1, 2

),

final as (

    select
        counts.customer_id,
        counts.product_id,
        counts.count_lines,
        counts.count_lines_before_validation,
        counts.count_lines_before_holdout,
        counts.count_lines_in_holdout,
        counts.count_returned_lines,
        counts.count_returned_lines_before_validation,
        counts.count_returned_lines_before_holdout,
        {{ var('recommendation_holdout_days') }} as built_holdout_days,
        split.as_of_date as built_as_of_date,
        {{ run_timestamp() }} as built_at
    from counts
    cross join split

)

select * from final
