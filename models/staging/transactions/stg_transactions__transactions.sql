with

source as (

    select * from {{ source('transactions', 'transactions') }}

),

standardised as (

    select
        _row_number as source_row_number,
        {{ clean_text('customer_id') }} as customer_source_id,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('customer_key') }} as customer_key,
        {{ parse_money('amount') }} as amount,
        {{ parse_timestamp('transacted_at') }} as transacted_at,
        {{ clean_text('transacted_at') }} is null
        or {{ clean_text('amount') }} is null as is_required_missing

    from source

),

flagged as (

    select
        *,
        case
            when customer_source_id is null or is_required_missing
                then 'missing_required_field'
            -- an order id that is an email or a phone would publish it
            when {{ looks_like_personal_data_key('order_id') }}
                then 'personal_data_in_key'
            when transacted_at is null then 'invalid_timestamp'
            when transacted_at > {{ max_valid_timestamp() }}
                then 'future_timestamp'
            when amount is null then 'invalid_number'
        end as dq_reason
    from standardised

)

select * from flagged
