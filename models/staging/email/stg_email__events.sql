with

source as (

    select * from {{ source('email', 'email_events') }}

),

standardised as (

    select
        _row_number as source_row_number,
        _source_file as source_file,
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('contact_id') }} as contact_id,
        {{ clean_text('campaign_id') }} as campaign_id,
        {{ clean_text('campaign_name') }} as campaign_name,
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
                event_id is null
                or contact_id is null
                or event_type is null
                or is_occurred_at_missing
                then 'missing_required_field'
            when occurred_at is null then 'invalid_timestamp'
            when occurred_at > {{ max_valid_timestamp() }}
                then 'future_timestamp'
            when event_type not in ('sent', 'opened', 'clicked', 'unsubscribed')
                then 'invalid_value'
        end as dq_reason
    from standardised

)

select * from flagged
