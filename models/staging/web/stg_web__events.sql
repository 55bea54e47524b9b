with

source as (

    select * from {{ source('web', 'web_events') }}

),

standardised as (

    select
        _row_number as source_row_number,
        _source_file as source_file,
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('account_id') }} as account_id,
        {{ clean_text('session_id') }} as session_id,
        {{ clean_text('product_id') }} as product_id,
        lower({{ clean_text('event_type') }}) as event_type,
        {{ parse_timestamp('occurred_at') }} as occurred_at,
        {{ clean_text('occurred_at') }} is null as is_occurred_at_missing

    from source

),

flagged as (

    select
        *,
        case
            when
                event_id is null or event_type is null or is_occurred_at_missing
                then 'missing_required_field'
            when occurred_at is null then 'invalid_timestamp'
            when occurred_at > {{ max_valid_timestamp() }}
                then 'future_timestamp'
            when
                event_type not in (
                    'session_start', 'product_view', 'add_to_cart', 'checkout'
                )
                then 'invalid_value'
        end as dq_reason
    from standardised

)

select * from flagged
