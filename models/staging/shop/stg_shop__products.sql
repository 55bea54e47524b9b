with

source as (

    select * from {{ source('shop', 'products') }}

),

standardised as (

    select
        _row_number as source_row_number,
        {{ clean_text('product_id') }} as product_id,
        {{ mask_pii(clean_text('product_name')) }} as product_name,
        lower({{ clean_text('category') }}) as category,
        lower({{ clean_text('subcategory') }}) as subcategory,
        {{ clean_text('brand') }} as brand,
        {{ parse_money('list_price', 4) }} as list_price,
        {{ parse_money('unit_cost', 4) }} as unit_cost,
        {{ any_unreadable(['list_price', 'unit_cost'], parse_money) }}
            as has_unreadable_money

    from source

),

flagged as (

    select
        *,
        case
            when product_id is null then 'missing_required_field'
            when has_unreadable_money or list_price < 0 or unit_cost < 0
                then 'invalid_price'
        end as dq_reason
    from standardised

),

final as (

    select * exclude (has_unreadable_money)
    from flagged

)

select * from final
