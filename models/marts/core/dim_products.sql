{#- One row per product in the catalogue. -#}
with

products as (

    select * from {{ ref('int_products_validated') }}
    where row_status = 'kept'

),

final as (

    select
        product_id,
        product_name,
        category,
        subcategory,
        brand,
        list_price,
        unit_cost,
        case
            when list_price > 0
                then round((list_price - unit_cost) / list_price, 4)
        end as pct_list_margin
    from products

)

select * from final
