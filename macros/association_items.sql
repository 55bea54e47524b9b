{% macro association_items(products) -%}
    {#- Every item of both association levels with an integer key from 1
        up, dense per level: the kept products (by product_id) and their
        categories (by name). int_order_baskets keys its baskets with it
        and fct_product_associations names its rules with it, so the two
        read the same keys. -#}
    select
        'product' as association_level,
        product_id as item,
        cast(row_number() over (order by product_id) as integer) as item_key
    from {{ products }}
    where row_status = 'kept'

    union all

    select
        'category' as association_level,
        category as item,
        cast(row_number() over (order by category) as integer) as item_key
    from (
        select distinct category
        from {{ products }}
        where row_status = 'kept' and category is not null
    ) as categories
{%- endmacro %}
