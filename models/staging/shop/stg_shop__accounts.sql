with

source as (

    select * from {{ source('shop', 'shop_accounts') }}

),

standardised as (

    select
        _row_number as source_row_number,
        {{ clean_text('account_id') }} as account_id,
        {{ clean_text('customer_key') }} as customer_key,
        regexp_replace({{ clean_text('full_name') }}, '\s+', ' ', 'g')
            as full_name,
        {{ normalize_email('email') }} as email,
        {{ phone_digits('phone') }} as phone_digits,
        {{ clean_text('address_line') }} as address_line,
        {{ clean_text('city') }} as city,
        {{ clean_text('country') }} as country_text,
        {{ country_key(clean_text('country')) }} as country_alias,
        {{ normalize_gender('gender') }} as gender,
        {{ clean_text('email') }} is not null
        and {{ normalize_email('email') }} is null as is_email_invalid,
        {{ parse_boolean('newsletter_opt_in') }} as has_marketing_consent,
        {{ parse_date('birth_date') }} as birth_date,
        {{ parse_timestamp('registered_at') }} as registered_at,
        {{ parse_timestamp('updated_at') }} as updated_at

    from source

),

flagged as (

    select
        *,
        case
            when account_id is null then 'missing_required_field'
        end as dq_reason
    from standardised

)

select * from flagged
