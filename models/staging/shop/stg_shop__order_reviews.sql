with

source as (

    select * from {{ source('shop', 'order_reviews') }}

),

standardised as (

    select
        _row_number as source_row_number,
        {{ clean_text('review_id') }} as review_id,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('product_id') }} as product_id,
        {{ mask_pii(clean_text('comment')) }} as review_comment,
        {{ parse_integer('score') }} as review_score,
        {{ parse_timestamp('reviewed_at') }} as reviewed_at,
        {{ clean_text('score') }} is null as is_score_missing,
        {{ clean_text('reviewed_at') }} is null as is_reviewed_at_missing

    from source

),

flagged as (

    select
        *,
        case
            when
                review_id is null
                or order_id is null
                or is_score_missing
                or is_reviewed_at_missing
                then 'missing_required_field'
            when reviewed_at is null then 'invalid_timestamp'
            when reviewed_at > {{ max_valid_timestamp() }}
                then 'future_timestamp'
            when
                review_score is null
                or review_score not between 1 and 5
                then 'score_out_of_range'
        end as dq_reason
    from standardised

)

select * from flagged
