{#- One row per basket: a completed order up to as_of_date with at least one
    line of a kept product, its items as sorted lists of integer keys
    (association_items), each item once. The input of
    fct_product_associations, as the one-hot frame is mlxtend's: built once
    per build, so that the rules count sets of small integers, not lines. -#}
with

order_items as (

    select * from {{ ref('int_order_items_enriched') }}
    where is_completed

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
        order_items.order_row_number,
        list_sort(list_distinct(list(product_items.product_key)))
            as product_keys,
        list_sort(list_distinct(list(product_items.category_key)))
            as category_keys
    from order_items
    inner join product_items
        on order_items.product_id = product_items.product_id
    group by 1

)

select * from baskets
