{#- One row per customer x category bought (completed orders up to
    as_of_date): spend, units and their shares of the customer's total, and
    the category's rank by spend. The one place for share of wallet.

    Incremental by customer: a run rebuilds the customers whose lines
    fct_order_items rebuilt since this mart's latest built_at, after
    deleting theirs. A customer's rows also depend on the catalogue's
    categories, which every customer shares: when they change
    (shared_inputs_digest), the mart is rebuilt in full. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=by_customer_pre_hooks(
        "published_changed_customers('fct_order_items')"
    )
) }}

{%- set shared_inputs_digest -%}
    (
        select md5(coalesce(
            string_agg(
                to_json(struct_pack(product_id, category)), ','
                order by product_id
            ),
            ''
        ))
        from {{ ref('dim_products') }}
    )
{%- endset %}

{{ rebuild_in_full_when([
    digest_changed(shared_inputs_digest, 'shared_inputs_digest',
        'the catalogue\'s categories changed'),
], required_column='shared_inputs_digest') }}

with

order_items as (

    select * from {{ ref('fct_order_items') }}
    where is_completed and {{ of_changed_customers() }}

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
        ) as category_rank,
        {{ shared_inputs_digest }} as shared_inputs_digest,
        {{ run_timestamp() }} as built_at
    from category_totals

)

select * from final
