with

source as (

    select * from {{ source('shop', 'order_lines') }}

),

standardised as (

    select
        _row_number as source_row_number,
        _source_file as source_file,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('product_id') }} as product_id,
        {{ parse_integer('line_number') }} as line_number,
        {{ parse_integer('quantity') }} as quantity,
        {{ parse_money('unit_price', 4) }} as unit_price,
        coalesce({{ parse_money('line_discount') }}, 0) as line_discount,
        {{ clean_text('line_number') }} is null
        or {{ clean_text('quantity') }} is null
        or {{ clean_text('unit_price') }} is null as is_number_missing,
        {{ any_unreadable(['line_discount'], parse_money) }}
            as is_line_discount_unreadable

    from source

),

flagged as (

    select
        *,
        case
            when order_id is null or product_id is null or is_number_missing
                then 'missing_required_field'
            when line_number is null then 'invalid_number'
            {#- a negative quantity is a credited unit: valid only on a credit
                document, which int_order_lines_validated knows -#}
            when quantity is null or quantity = 0 then 'invalid_quantity'
            when unit_price is null or unit_price <= 0 then 'invalid_price'
            when
                is_line_discount_unreadable
                or line_discount < 0
                or line_discount > abs(quantity) * unit_price
                then 'invalid_price'
        end as dq_reason
    from standardised

),

final as (

    select * exclude (is_line_discount_unreadable)
    from flagged

)

select * from final
