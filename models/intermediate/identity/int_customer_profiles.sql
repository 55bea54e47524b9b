{#- One row per resolved customer: the surviving profile across its source
    records (CRM first, then the shop, then the latest update; consent is
    the latest statement from any system). -#}
with

records as (

    select * from {{ ref('int_customer_records_standardised') }}

),

identity_map as (

    select * from {{ ref('int_customer_identity_map') }}

),

linked as (

    select
        identity_map.customer_id,
        records.*
    from records
    inner join identity_map
        on records.record_key = identity_map.record_key

),

profiles as (

    select
        customer_id,
        {{ survivor('first_name') }} as first_name,
        {{ survivor('last_name') }} as last_name,
        {{ survivor('full_name') }} as full_name,
        {{ survivor('email') }} as email,
        {{ survivor('phone') }} as phone,
        {{ survivor('street_address') }} as street_address,
        {{ survivor('city') }} as city,
        {{ survivor('postal_code') }} as postal_code,
        {{ survivor('country_code') }} as country_code,
        {{ survivor('gender') }} as gender,
        {{ survivor('income_band') }} as income_band,
        count(*) as count_source_records,
        bool_or(source_system = 'crm') as is_in_crm,
        bool_or(source_system = 'shop') as is_in_shop,
        bool_or(source_system = 'transactions') as is_in_transactions,
        {{ survivor(
            'has_marketing_consent',
            'updated_at desc nulls last, source_priority, record_key'
        ) }} as has_marketing_consent,
        {{ survivor('birth_date') }} as birth_date,
        min(signed_up_at) as signed_up_at
    from linked
    group by 1

)

select * from profiles
