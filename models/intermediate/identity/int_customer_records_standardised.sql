{#- One row per kept source customer record of every system, in one shape,
    with the match keys identity resolution uses: normalised email, E.164
    phone and a name key, and the person key a source may carry
    (customer_key). Transaction-only customers carry just their id and
    customer_key. -#}
with

contacts as (

    select * from {{ ref('int_crm_contacts_validated') }}
    where row_status = 'kept'

),

accounts as (

    select * from {{ ref('int_shop_accounts_validated') }}
    where row_status = 'kept'

),

transactions as (

    select * from {{ ref('int_transactions_validated') }}
    where row_status = 'kept'

),

countries as (

    select * from {{ ref('countries') }}

),

country_aliases as (

    select * from {{ ref('country_aliases') }}

),

crm_records as (

    select
        'crm' as source_system,
        contact_id as source_customer_id,
        customer_key,
        first_name,
        last_name,
        trim(concat_ws(' ', first_name, last_name)) as full_name,
        email,
        phone_digits,
        street_address,
        city,
        postal_code,
        country_text,
        country_alias,
        gender,
        income_band,
        has_marketing_consent,
        birth_date,
        created_at as signed_up_at,
        updated_at
    from contacts

),

shop_records as (

    select
        'shop' as source_system,
        account_id as source_customer_id,
        customer_key,
        null as first_name,
        null as last_name,
        full_name,
        email,
        phone_digits,
        address_line as street_address,
        city,
        null as postal_code,
        country_text,
        country_alias,
        gender,
        null as income_band,
        has_marketing_consent,
        birth_date,
        registered_at as signed_up_at,
        updated_at
    from accounts

),

transaction_records as (

    select
        'transactions' as source_system,
        customer_source_id as source_customer_id,
        {#- A customer whose rows carry different keys takes its latest
            transaction's key. #}
        first(
            customer_key
            order by transacted_at desc, source_row_number desc
        ) filter (where customer_key is not null) as customer_key,
        null as first_name,
        null as last_name,
        null as full_name,
        null as email,
        null as phone_digits,
        null as street_address,
        null as city,
        null as postal_code,
        null as country_text,
        null as country_alias,
        null as gender,
        null as income_band,
        cast(null as boolean) as has_marketing_consent,
        cast(null as date) as birth_date,
        min(transacted_at) as signed_up_at,
        max(transacted_at) as updated_at
    from transactions
    group by 1, 2

),

all_records as (

    select * from crm_records
    union all
    select * from shop_records
    union all
    select * from transaction_records

),

with_country as (

    select
        all_records.*,
        country_aliases.country_code,
        countries.calling_code,
        countries.trunk_prefix
    from all_records
    left join country_aliases
        on all_records.country_alias = country_aliases.alias
    left join countries
        on country_aliases.country_code = countries.country_code

),

keyed as (

    select
        source_system || ':' || source_customer_id as record_key,
        source_system,
        source_customer_id,
        customer_key,
        first_name,
        last_name,
        full_name,
        {{ name_key('full_name') }} as name_key,
        email,
        {{ e164_phone('phone_digits', 'calling_code', 'trunk_prefix') }}
            as phone_candidate,
        street_address,
        city,
        postal_code,
        country_text,
        country_code,
        gender,
        income_band,
        case source_system when 'crm' then 1 when 'shop' then 2 else 3 end
            as source_priority,
        has_marketing_consent,
        birth_date,
        signed_up_at,
        updated_at
    from with_country

),

final as (

    select
        * exclude (phone_candidate),
        case
            when regexp_full_match(phone_candidate, '\+[1-9][0-9]{7,14}')
                then phone_candidate
        end as phone
    from keyed

)

select * from final
