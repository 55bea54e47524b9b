with

source as (

    select * from {{ source('survey', 'survey_responses') }}

),

standardised as (

    select
        _row_number as source_row_number,
        {{ clean_text('response_id') }} as response_id,
        {{ clean_text('contact_id') }} as contact_id,
        {{ mask_pii(clean_text('comment')) }} as response_comment,
        {{ parse_integer('nps_score') }} as nps_score,
        {{ parse_integer('sat_product') }} as sat_product,
        {{ parse_integer('sat_delivery') }} as sat_delivery,
        {{ parse_integer('sat_service') }} as sat_service,
        {{ parse_integer('sat_value') }} as sat_value,
        {{ parse_timestamp('responded_at') }} as responded_at,
        {{ clean_text('responded_at') }} is null as is_responded_at_missing,
        {{ any_unreadable(
            ['nps_score', 'sat_product', 'sat_delivery', 'sat_service', 'sat_value'],
            parse_integer
        ) }} as has_unreadable_score

    from source

),

flagged as (

    select
        *,
        case
            when
                response_id is null
                or contact_id is null
                or is_responded_at_missing
                then 'missing_required_field'
            when responded_at is null then 'invalid_timestamp'
            when responded_at > {{ max_valid_timestamp() }}
                then 'future_timestamp'
            when
                has_unreadable_score
                or nps_score not between 0 and 10
                or sat_product not between 1 and 5
                or sat_delivery not between 1 and 5
                or sat_service not between 1 and 5
                or sat_value not between 1 and 5
                then 'score_out_of_range'
        end as dq_reason
    from standardised

)

select * from flagged
