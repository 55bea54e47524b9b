with

source as (

    select * from {{ source('shop', 'orders') }}

),

standardised as (

    select
        _row_number as source_row_number,
        _source_file as source_file,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('account_id') }} as account_id,
        {#- mapped onto order_status by seeds/order_status_map.csv in
            int_orders_validated; empty means completed -#}
        nullif(
            regexp_replace(lower(trim(status)), '[\s-]+', '_', 'g'), ''
        ) as source_status,
        {{ clean_text('original_order_id') }} as original_order_id,
        lower(trim(channel)) as channel,
        coalesce({{ parse_money('discount_amount') }}, 0) as discount_amount,
        coalesce({{ parse_money('shipping_amount') }}, 0) as shipping_amount,
        coalesce({{ parse_money('refunded_amount') }}, 0) as refunded_amount,
        {{ parse_timestamp('ordered_at') }} as ordered_at,
        {{ parse_timestamp('updated_at') }} as updated_at,
        {{ parse_timestamp('refunded_at') }} as refunded_at,
        {{ clean_text('ordered_at') }} is null as is_ordered_at_missing,
        {{ any_unreadable(
            ['discount_amount', 'shipping_amount', 'refunded_amount'],
            parse_money
        ) }} as has_unreadable_money

    from source

),

flagged as (

    select
        *,
        case
            when
                order_id is null
                or account_id is null
                or is_ordered_at_missing
                then 'missing_required_field'
            when ordered_at is null then 'invalid_timestamp'
            when ordered_at > {{ max_valid_timestamp() }}
                then 'future_timestamp'
            when
                has_unreadable_money
                or discount_amount < 0
                or shipping_amount < 0
                or refunded_amount < 0
                then 'invalid_price'
        end as dq_reason
    from standardised

),

final as (

    select * exclude (has_unreadable_money)
    from flagged

)

select * from final
