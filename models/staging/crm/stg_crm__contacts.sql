with

source as (

    select * from {{ source('crm', 'crm_contacts') }}

),

standardised as (

    select
        _row_number as source_row_number,
        {{ clean_text('contact_id') }} as contact_id,
        {{ clean_text('customer_key') }} as customer_key,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ normalize_email('email') }} as email,
        {{ phone_digits('phone') }} as phone_digits,
        {{ clean_text('street_address') }} as street_address,
        {{ clean_text('city') }} as city,
        {{ clean_text('postal_code') }} as postal_code,
        {{ clean_text('country') }} as country_text,
        {{ country_key(clean_text('country')) }} as country_alias,
        {{ normalize_gender('gender') }} as gender,
        lower({{ clean_text('income_band') }}) as income_band,
        {{ clean_text('email') }} is not null
        and {{ normalize_email('email') }} is null as is_email_invalid,
        {{ parse_boolean('marketing_consent') }} as has_marketing_consent,
        {{ parse_date('birth_date') }} as birth_date,
        {{ parse_timestamp('created_at') }} as created_at,
        {{ parse_timestamp('updated_at') }} as updated_at

    from source

),

flagged as (

    select
        *,
        case
            when contact_id is null then 'missing_required_field'
        end as dq_reason
    from standardised

)

select * from flagged
