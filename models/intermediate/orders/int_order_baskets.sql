{#- One row per basket: a completed order up to as_of_date with at least one
    line of a kept product, its items as sorted lists of integer keys
    (association_items), each item once. The input of
    fct_product_associations, as the one-hot frame is mlxtend's: the rules
    count sets of small integers, not lines.

    Incremental by customer: a run rebuilds the baskets of the customers
    whose lines int_order_items_enriched rebuilt since this model's latest
    built_at (published_changed_customers), after deleting theirs. The keys
    follow the catalogue: when its items (the kept products and their
    categories, item_keys_digest) change, it is rebuilt in full. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook=by_customer_pre_hooks(
        "published_changed_customers('int_order_items_enriched')"
    )
) }}

{%- set item_keys_digest -%}
    (
        select md5(coalesce(
            string_agg(
                association_level || ':' || item || ':' || item_key,
                ',' order by association_level, item_key
            ),
            ''
        ))
        from ({{ association_items(ref('int_products_validated')) }})
    )
{%- endset %}

{{ rebuild_in_full_when([
    digest_changed(item_keys_digest, 'item_keys_digest',
        'the catalogue\'s products or categories changed'),
], required_column='item_keys_digest') }}

with

order_items as (

    select * from {{ ref('int_order_items_enriched') }}
    where is_completed and {{ of_changed_customers() }}

),

products as (

    select * from {{ ref('int_products_validated') }}
    where row_status = 'kept'

),

items as (

    {{ association_items(ref('int_products_validated')) }}

),

product_items as (

    select
        products.product_id,
        product_keys.item_key as product_key,
        category_keys.item_key as category_key
    from products
    inner join items as product_keys
        on
            product_keys.association_level = 'product'
            and products.product_id = product_keys.item
    left join items as category_keys
        on
            category_keys.association_level = 'category'
            and products.category = category_keys.item

),

baskets as (

    {#- list_distinct drops the null category keys of products without a
        category: such a basket has no category items. -#}
    select
        order_items.customer_id,
        order_items.order_row_number,
        list_sort(list_distinct(list(product_items.product_key)))
            as product_keys,
        list_sort(list_distinct(list(product_items.category_key)))
            as category_keys
    from order_items
    inner join product_items
        on order_items.product_id = product_items.product_id
    group by 1, 2

),

final as (

    select
        *,
        {{ item_keys_digest }} as item_keys_digest,
        {{ run_timestamp() }} as built_at
    from baskets

)

select * from final
