with

source as (

    select * from {{ source('helpdesk', 'tickets') }}

),

standardised as (

    select
        _row_number as source_row_number,
        {{ clean_text('ticket_id') }} as ticket_id,
        {{ clean_text('contact_id') }} as contact_id,
        {{ mask_pii("lower(" ~ clean_text('channel') ~ ")") }} as channel,
        {{ mask_pii("lower(" ~ clean_text('category') ~ ")") }} as category,
        {{ mask_pii("lower(" ~ clean_text('priority') ~ ")") }} as priority,
        {{ parse_integer('csat_score') }} as csat_score,
        {{ parse_timestamp('opened_at') }} as opened_at,
        {{ parse_timestamp('resolved_at') }} as resolved_at,
        {{ clean_text('opened_at') }} is null as is_opened_at_missing,
        {{ clean_text('resolved_at') }} is not null as has_resolved_at_text,
        {{ clean_text('csat_score') }} is not null as has_csat_text

    from source

),

flagged as (

    select
        *,
        case
            when ticket_id is null or contact_id is null or is_opened_at_missing
                then 'missing_required_field'
            when
                opened_at is null
                or (has_resolved_at_text and resolved_at is null)
                or resolved_at < opened_at
                then 'invalid_timestamp'
            when
                opened_at > {{ max_valid_timestamp() }}
                or resolved_at > {{ max_valid_timestamp() }}
                then 'future_timestamp'
            when
                (has_csat_text and csat_score is null)
                or csat_score not between 1 and 5
                then 'score_out_of_range'
        end as dq_reason
    from standardised

)

select * from flagged
