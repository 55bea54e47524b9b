{#- One row per customer with at least one completed order up to
    as_of_date: what they buy (categories, brands with weights and a ranked
    priority list), how price sensitive they are and where they shop. Price
    sensitivity needs evidence: when the data holds no discount at all (no
    completed line or order with one: the columns are optional) it is
    'unknown', never 'low'.

    Incremental by customer: a run rebuilds the customers whose rows
    fct_order_items, fct_orders or fct_customer_category_spend rebuilt since
    this mart's latest built_at, after deleting theirs. What every customer
    shares (the catalogue's categories and brands, and whether the data
    holds any discount: shared_inputs_digest) rebuilds it in full when it
    changes. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=by_customer_pre_hooks(
        "published_changed_customers(["
        ~ "'fct_order_items', 'fct_orders', 'fct_customer_category_spend'])"
    )
) }}

{%- set has_discounts -%}
    (
        exists (
            select 1 from {{ ref('fct_order_items') }}
            where is_completed and is_discounted
        )
        or exists (
            select 1 from {{ ref('fct_orders') }}
            where is_completed and order_discount_amount > 0
        )
    )
{%- endset %}

{%- set shared_inputs_digest -%}
    (
        select md5(
            coalesce(
                string_agg(
                    to_json(struct_pack(product_id, category, brand)), ','
                    order by product_id
                ),
                ''
            )
            || cast({{ has_discounts }} as varchar)
        )
        from {{ ref('dim_products') }}
    )
{%- endset %}

{{ rebuild_in_full_when([
    digest_changed(shared_inputs_digest, 'shared_inputs_digest',
        'the catalogue\'s categories or brands changed, or discounts '
        ~ 'appeared or vanished'),
], required_column='shared_inputs_digest') }}

with

category_spend as (

    select * from {{ ref('fct_customer_category_spend') }}
    where {{ of_changed_customers() }}

),

order_items as (

    select * from {{ ref('fct_order_items') }}
    where is_completed and {{ of_changed_customers() }}

),

products as (

    select * from {{ ref('dim_products') }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    where is_completed and {{ of_changed_customers() }}

),

category_preferences as (

    select
        customer_id,
        max(category) filter (where category_rank = 1) as top_category,
        max(pct_spend) filter (where category_rank = 1)
            as pct_spend_top_category,
        max(pct_quantity) filter (where category_rank = 1)
            as pct_quantity_top_category,
        max(category) filter (where category_rank = 2) as second_category,
        max(category) filter (where category_rank = 3) as third_category,
        string_agg(category, ' > ' order by category_rank)
            as category_priority_list
    from category_spend
    group by 1

),

brand_spend as (

    select
        order_items.customer_id,
        coalesce(products.brand, 'unknown') as brand,
        sum(order_items.line_amount_after_discount) as sum_line_amount
    from order_items
    left join products
        on order_items.product_id = products.product_id
    group by 1, 2

),

brand_ranked as (

    select
        *,
        sum_line_amount
        / nullif(sum(sum_line_amount) over (partition by customer_id), 0)
            as pct_spend,
        row_number() over (
            partition by customer_id order by sum_line_amount desc, brand asc
        ) as brand_rank
    from brand_spend

),

brand_preferences as (

    select
        customer_id,
        max(brand) filter (where brand_rank = 1) as top_brand,
        max(pct_spend) filter (where brand_rank = 1) as pct_spend_top_brand,
        string_agg(brand, ' > ' order by brand_rank) filter (
            where brand_rank <= 5
        ) as brand_priority_list
    from brand_ranked
    group by 1

),

price_sensitivity as (

    {#- a line is bought on discount when it or its order carries one -#}
    select
        order_items.customer_id,
        avg(
            case
                when
                    order_items.is_discounted
                    or orders.order_discount_amount > 0
                    then 1
                else 0
            end
        ) as pct_lines_discounted,
        sum(order_items.line_discount)
        / nullif(sum(order_items.gross_line_amount), 0)
            as pct_discount_of_spend
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    where {{ has_discounts }}
    group by 1

),

channel_counts as (

    select
        customer_id,
        channel,
        count(*) as count_orders,
        count(*) / sum(count(*)) over (partition by customer_id)
            as pct_orders,
        row_number() over (
            partition by customer_id order by count(*) desc, channel
        ) as channel_rank
    from orders
    where channel is not null
    group by 1, 2

),

channel_preferences as (

    select
        customer_id,
        channel as preferred_channel,
        pct_orders as pct_orders_preferred_channel
    from channel_counts
    where channel_rank = 1

),

buyers as (

    select distinct customer_id from orders

),

final as (

    select
        buyers.customer_id,
        category_preferences.top_category,
        category_preferences.second_category,
        category_preferences.third_category,
        category_preferences.category_priority_list,
        brand_preferences.top_brand,
        brand_preferences.brand_priority_list,
        case
            when price_sensitivity.pct_lines_discounted >= 0.5 then 'high'
            when price_sensitivity.pct_lines_discounted >= 0.2 then 'medium'
            when price_sensitivity.pct_lines_discounted >= 0 then 'low'
            else 'unknown'
        end as price_sensitivity,
        channel_preferences.preferred_channel,
        round(category_preferences.pct_spend_top_category, 4)
            as pct_spend_top_category,
        round(category_preferences.pct_quantity_top_category, 4)
            as pct_quantity_top_category,
        round(brand_preferences.pct_spend_top_brand, 4) as pct_spend_top_brand,
        round(price_sensitivity.pct_lines_discounted, 4)
            as pct_lines_discounted,
        round(price_sensitivity.pct_discount_of_spend, 4)
            as pct_discount_of_spend,
        round(channel_preferences.pct_orders_preferred_channel, 4)
            as pct_orders_preferred_channel,
        {{ shared_inputs_digest }} as shared_inputs_digest,
        {{ run_timestamp() }} as built_at
    from buyers
    left join category_preferences
        on buyers.customer_id = category_preferences.customer_id
    left join brand_preferences
        on buyers.customer_id = brand_preferences.customer_id
    left join price_sensitivity
        on buyers.customer_id = price_sensitivity.customer_id
    left join channel_preferences
        on buyers.customer_id = channel_preferences.customer_id

)

select * from final
